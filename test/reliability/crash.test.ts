import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { onRealPostgres, testDatabaseUrl } from '../helpers/app.js'
import { checkLedger, drivePurchases, freePort, seedProgram, ServiceProcess, checkServiceAnswers } from '../helpers/service.js'

checkServiceAnswers(t)

// Crash safety: the service runs as its own process on PostgreSQL under purchase load and is
// killed with SIGKILL at random moments, then restarted. Tills retry every request that got no
// answer (or a 5xx) with the same Idempotency-Key. Afterwards every acknowledged purchase is in the
// ledger exactly once with a complete entry, nothing else was posted, balances follow from the
// acknowledged purchases and the ledger verifies. `npm run chaos` runs the long version.
const KILLS = Number(process.env.CRASH_KILLS ?? 5)

t.test('SIGKILL under purchase load loses and duplicates nothing', { skip: onRealPostgres ? false : 'needs real PostgreSQL (TEST_DATABASE_URL): a killed process is meaningless on in-memory PGlite' }, async (t) => {
  const service = new ServiceProcess(testDatabaseUrl!, await freePort())
  t.teardown(() => service.kill())
  await service.start()
  const seeded = await seedProgram(service.base, 12)
  let running = true
  const load = drivePurchases({ base: () => service.base, token: seeded.token, members: seeded.members, workers: 6, running: () => running })
  let kills = 0
  try {
    for (let k = 0; k < KILLS; k++) {
      await sleep(300 + Math.random() * 900)
      await service.kill('SIGKILL')
      kills += 1
      await service.start()
    }
    await sleep(500)
  } finally {
    running = false
  }
  const sent = await load
  const result = await checkLedger(testDatabaseUrl!, service.base, seeded, sent)
  t.comment(`kills survived: ${kills}; requests ${result.requests}, acknowledged ${result.acknowledged}, found exactly once ${result.found}; retried ${result.retried}, answered by replay ${result.replayed}`)
  t.equal(kills, KILLS, `killed ${KILLS} times`)
  t.ok(result.retried > 0, 'some requests lost their answer and were retried')
  t.equal(result.acknowledged, result.requests, 'every request was eventually acknowledged')
  t.equal(result.found, result.acknowledged, 'every acknowledged purchase is in the ledger exactly once')
  t.same(result.problems, [], 'no lost, duplicated or partial purchase; balances and ledger verify')
  t.ok(service.alive, 'the last instance is still running')
})
