// The executor's lock order against the pipelined commands: a plan takes both of its member's
// wallets, in account-id order, before it writes anything (migration 0018), as a return does. A
// group whose first plan writes only the member's later wallet (a top-up: stored value; a grant:
// points) and whose next plan, the member's sale, wants the earlier one, must not deadlock with a
// transaction that holds the earlier wallet and then asks for the later one, as a return does.
import t from 'tap'
import { sql } from 'drizzle-orm'
import { queryRows, type Executor } from '../../../src/db/client.js'
import { memberWallets } from '../../../src/modules/ledger/accounts.js'
import { onRealPostgres, startTestApp } from '../../helpers/app.js'
import { Till, VND_RULES } from '../../helpers/pos.js'

const ctx = await startTestApp(t)

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const since = Date.now()
  while (!(await check())) {
    if (Date.now() - since > 10_000) throw new Error(`timed out waiting until ${what} (executor: ${JSON.stringify(ctx.database.applier.load)})`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const lockRow = (tx: Executor, programId: string, id: string) =>
  queryRows(tx, sql`select id from ledger_accounts where program_id = ${programId} and id = ${id} for update`)

t.test(
  'a group holding a member’s later wallet does not deadlock with a transaction locking both in id order',
  { skip: onRealPostgres ? false : 'needs a second connection to hold rows while a group waits (PostgreSQL only)' },
  async (t) => {
    const p = await ctx.createProgram({ rules: VND_RULES })
    const till = new Till(ctx, p.token)
    const [b, c] = await Promise.all([ctx.enrol(p.token), ctx.enrol(p.token)])
    await till.topUp(b.id, '100000')
    await till.grantPoints(b.id, 10)
    await till.topUp(c.id, '100000')
    const wallets = memberWallets({ id: p.id, currency: 'VND' }, b.id, 0)
    const [lower, higher] = [wallets.points, wallets.storedValue].sort() as [string, string]
    const cStoredValue = memberWallets({ id: p.id, currency: 'VND' }, c.id, 0).storedValue
    // The command that writes only B's later wallet.
    const onlyHigher = higher === wallets.storedValue ? () => till.topUp(b.id, '50000') : () => till.grantPoints(b.id, 5)
    const sale = (memberId: string) => till.purchase(memberId, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'storedValue', amount: '20000' }, { type: 'cash', amount: '80000' }])

    const applier = ctx.database.applier
    applier.configure({ maxInFlight: 1 })
    t.teardown(() => applier.configure({ maxInFlight: 4 }))

    const gate = () => {
      let open!: () => void
      const opened = new Promise<void>((resolve) => (open = resolve))
      return { open, opened }
    }
    const releaseC = gate()
    const askHigher = gate()
    let holderPid = 0
    let holding!: () => void
    const held = new Promise<void>((resolve) => (holding = resolve))
    // The holder, as a return of B would: B's earlier wallet first; meanwhile (a savepoint) C's,
    // so that a group of C's sale waits and B's two commands queue behind it into one group.
    const holder = ctx.database.transaction(async (tx) => {
      holderPid = Number((await queryRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`))[0]!.pid)
      // Deadlock detection runs in the holder first, so a cycle makes the holder fail, not the group.
      await queryRows(tx, sql`set local deadlock_timeout = '20ms'`)
      await lockRow(tx, p.id, lower)
      await queryRows(tx, sql`savepoint hold_c`)
      await lockRow(tx, p.id, cStoredValue)
      holding()
      await releaseC.opened
      await queryRows(tx, sql`rollback to savepoint hold_c`)
      await askHigher.opened
      await lockRow(tx, p.id, higher)
      return 'locked'
    })
    await held

    const saleC = sale(c.id)
    await until('C’s sale waits on the holder', async () => (await blockedBy(holderPid)) === 1)
    const first = onlyHigher()
    await until('the first command of B is queued', async () => applier.load.plansPending >= 2)
    const saleB = sale(b.id)
    await until('B’s sale is queued behind it', async () => applier.load.plansPending >= 3)
    releaseC.open() // C's lock goes: C's sale commits, and B's two commands go as one group
    await until('B’s group waits on the holder', async () => (await blockedBy(holderPid)) === 1 && applier.load.plansPending === 2)
    askHigher.open() // the holder asks for B's later wallet

    t.equal(await holder, 'locked', 'the holder got B’s later wallet: no deadlock')
    await t.resolves(first, 'B’s first command posted (the helper refuses anything but 201)')
    const answers = await Promise.all([saleC, saleB])
    t.same(answers.map((a) => a.statusCode), [201, 201], answers.map((a) => a.body).join('\n'))
    const balances = await till.balances(b.id)
    t.equal(balances.storedValue.balance, higher === wallets.storedValue ? '130000' : '80000', 'B’s commands all applied')
    t.equal((await till.verify()).ok, true)
  },
)

/** Sessions of this database waiting on `pid`. */
async function blockedBy(pid: number): Promise<number> {
  const rows = await queryRows<{ n: number }>(ctx.database.db, sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and ${pid}::int = any(pg_blocking_pids(pid))`)
  return Number(rows[0]!.n)
}
