import t from 'tap'
import { SCOPES } from '../../src/shared/scopes.js'
import { ADMIN, startTestApp } from '../helpers/app.js'
import { changedTables, fingerprint } from '../helpers/fingerprint.js'
import { documentOf, operationsOf, sample, urlOf, type Known, type Operation } from '../helpers/openapi-requests.js'
import { idemKey, Till, VND_RULES } from '../helpers/pos.js'

// Tenant isolation and least privilege, for every operation of the OpenAPI document:
// - a token of program A aimed at program B's data (path ids, ids in bodies, phones in queries)
//   gets 403/404, sees nothing of B, and B's rows do not change;
// - a token holding one scope gets 403 from every operation that does not accept that scope,
//   and nothing changes; read-only scopes are never accepted by a write.
const isolationAdmin = { clientId: `isolation-admin-${process.pid}`, clientSecret: ADMIN.clientSecret, usingDevDefaults: false }
const ctx = await startTestApp(t, { admin: isolationAdmin })

async function seedProgram(label: string) {
  const program = await ctx.createProgram({ name: `Isolation ${label}`, rules: VND_RULES })
  const till = new Till(ctx, program.token)
  const member = await ctx.enrol(program.token, { name: `Member of ${label}`, email: `${label.toLowerCase()}@example.com`, cardNumber: `CARD-${label}-${process.pid}`, externalId: `EXT-${label}-${process.pid}` })
  await till.topUp(member.id, '500000')
  await till.grantPoints(member.id, 1000)
  const purchase = (await till.purchase(member.id, [{ sku: 'A', quantity: 1, unitPrice: '100000' }], [{ type: 'cash', amount: '100000' }])).json()
  const pending = (await till.purchase(member.id, [{ sku: 'B', quantity: 1, unitPrice: '10000' }], [{ type: 'storedValue', amount: '10000' }], { capture: false })).json()
  const client = (await ctx.call(await ctx.adminToken(), 'POST', `/v1/programs/${program.id}/clients`, { name: `${label} till`, scopes: ['pos'] }, { 'idempotency-key': idemKey() })).json()
  const reward = (await ctx.call(program.token, 'POST', '/v1/rewards', { name: `Reward of ${label}`, pointsPrice: 100, stock: 10, gives: { kind: 'item', sku: 'GIFT' } }, { 'idempotency-key': idemKey() })).json()
  const redemption = (await ctx.call(program.token, 'POST', `/v1/members/${member.id}/rewards/${reward.id}/redemptions`, undefined, { 'idempotency-key': idemKey() })).json().redemption
  const known: Known = { programId: program.id, memberId: member.id, purchaseId: purchase.id, entryId: purchase.entryId, clientId: client.clientId, rewardId: reward.id, redemptionId: redemption.id }
  // Ids of rows other modules keep for this program (receipts, webhooks, exports, ...): a path
  // parameter `fooId` takes the id of a row of a table named after `foo`, when there is one.
  const secrets = [member.id, purchase.id, pending.id, purchase.entryId, client.clientId, member.phone, `Member of ${label}`, `CARD-${label}-${process.pid}`, reward.id, redemption.id]
  return { program, till, member, purchase, pending, client, known, secrets }
}

const A = await seedProgram('A')
const B = await seedProgram('B')
const doc = await documentOf(ctx.app)
const operations = operationsOf(doc).filter((op) => op.scopes !== null)
const scope = { programIds: [B.program.id], actors: [B.client.clientId] }
const snapshotB = () => fingerprint(ctx.database, scope)

/** Realistic bodies for the operations that take one, so a refusal is about who asks, not about the body. */
function bodyFor(op: Operation, known: Known, member: { id: string; phone: string }): unknown {
  const sale = { memberId: member.id, storeId: 'S1', terminalId: 'T1', externalId: idemKey('iso'), currency: 'VND', lines: [{ sku: 'A', name: 'A', quantity: 1, unitPrice: '10000' }], tenders: [{ type: 'cash', amount: '10000' }] }
  const bodies: Record<string, unknown> = {
    'POST /v1/purchases': sale,
    'POST /v1/purchases/quote': sale,
    'POST /v1/purchases/batch': { purchases: [{ ...sale, idempotencyKey: idemKey('iso') }] },
    'POST /v1/members': { name: 'Intruder', phone: '0987000111' },
    'PATCH /v1/members/{memberId}': { name: 'Renamed by an intruder' },
    'POST /v1/members/{memberId}/stored-value/top-ups': { amount: '10000', tender: 'cash', storeId: 'S1' },
    'POST /v1/members/{memberId}/points/adjustments': { points: 10, reason: 'isolation test' },
    'POST /v1/purchases/{purchaseId}/returns': { amount: '10000' },
    'POST /v1/purchases/{purchaseId}/capture': {},
    'POST /v1/purchases/{purchaseId}/void': {},
    'POST /v1/ledger/entries/{entryId}/reversal': { reason: 'isolation test' },
    'PATCH /v1/programs/{programId}': { name: 'Renamed by an intruder' },
    'POST /v1/programs/{programId}/clients': { name: 'intruder', scopes: ['pos'] },
  }
  if (op.id in bodies) return bodies[op.id]
  return op.body ? sample(op.body.schema, { ...known, memberId: member.id, phone: member.phone, currency: 'VND', storeId: 'S1', amount: '10000' }) : undefined
}

function request(op: Operation, token: string, known: Known, member: { id: string; phone: string }, overrides: Record<string, string> = {}) {
  const body = op.body ? bodyFor(op, known, member) : undefined
  const url = urlOf(op, known, { ...overrides, ...(op.path.includes('/capture') || op.path.includes('/void') ? { purchaseId: (known.pendingId as string) ?? String(known.purchaseId) } : {}) })
  return ctx.call(token, op.method as 'GET', url, body, op.idempotent ? { 'idempotency-key': idemKey('iso') } : {})
}

t.test('a program A token gets nothing of program B from any operation, and changes nothing of B', async (t) => {
  const before = await snapshotB()
  const aKnown: Known = { ...A.known, pendingId: A.pending.id }
  const bKnown: Known = { ...B.known, pendingId: B.pending.id }
  let checked = 0
  let leaks = 0
  for (const op of operations) {
    const pathParams = op.parameters.filter((p) => p.in === 'path').map((p) => p.name)
    const token = op.scopes!.every((s) => s === 'admin') ? undefined : A.program.token
    if (!token) continue // platform-admin operations: no program token reaches them (checked by scope below)
    if (pathParams.length > 0) {
      // Every path id of B; the body (if any) is A's own valid one.
      const overrides = Object.fromEntries(pathParams.filter((p) => bKnown[p] !== undefined).map((p) => [p, String(bKnown[p])]))
      if (Object.keys(overrides).length === 0) continue
      const res = await request(op, token, { ...aKnown, ...overrides, pendingId: B.pending.id }, A.member)
      checked += 1
      t.ok([403, 404].includes(res.statusCode), `${op.id} with B's ${Object.keys(overrides).join(', ')} -> ${res.statusCode}`)
      if (B.secrets.some((s) => res.body.includes(s))) leaks += 1
    }
    if (op.body) {
      // A's path ids, B's member in the body: refused or acting on A only, never revealing B.
      const res = await request(op, token, aKnown, B.member)
      checked += 1
      t.ok(res.statusCode < 500, `${op.id} with B's member in the body -> ${res.statusCode}`)
      if (B.secrets.some((s) => res.body.includes(s))) leaks += 1
    }
    for (const q of op.parameters.filter((p) => p.in === 'query' && ['phone', 'cardNumber', 'externalId', 'memberId'].includes(p.name))) {
      const value = { phone: B.member.phone, cardNumber: `CARD-B-${process.pid}`, externalId: `EXT-B-${process.pid}`, memberId: B.member.id }[q.name as 'phone']
      const res = await ctx.call(token, op.method as 'GET', urlOf(op, aKnown, {}, { [q.name]: value }))
      checked += 1
      t.ok(res.statusCode < 500, `${op.id}?${q.name}=<B's> -> ${res.statusCode}`)
      if (B.secrets.some((s) => res.body.includes(s))) leaks += 1
    }
  }
  t.comment(`cross-program cases checked: ${checked}`)
  t.ok(checked >= 30, `${checked} cross-program cases`)
  t.equal(leaks, 0, 'no answer to A contained an id or personal data of B')
  t.same(changedTables(before, await snapshotB()), [], "none of B's rows changed")
})

t.test('every scope is refused by every operation that does not accept it, and a refused request changes nothing', async (t) => {
  const readOnly = ['balances:read', 'members:read', 'finance:read']
  for (const op of operations.filter((o) => o.method !== 'GET')) {
    t.same(op.scopes!.filter((s) => readOnly.includes(s)), [], `the document lets no read-only scope call ${op.id}`)
  }
  const tokens = new Map<string, string>()
  for (const s of SCOPES) tokens.set(s, s === 'admin' ? await ctx.adminToken() : (await ctx.createClient(A.program.id, [s], `only ${s}`)).token)
  const aScope = { programIds: [A.program.id, B.program.id], actors: [isolationAdmin.clientId] }
  const before = await fingerprint(ctx.database, aScope)
  const aKnown = { ...A.known, pendingId: A.pending.id }
  let checked = 0
  for (const op of operations) {
    for (const s of SCOPES.filter((x) => !op.scopes!.includes(x))) {
      const res = await request(op, tokens.get(s)!, aKnown, A.member)
      checked += 1
      t.equal(res.statusCode, 403, `${s} token on ${op.id} -> ${res.statusCode} ${res.statusCode === 403 ? '' : res.body.slice(0, 120)}`)
    }
  }
  t.comment(`scope refusals checked: ${checked}`)
  t.same(changedTables(before, await fingerprint(ctx.database, aScope)), [], 'no refused request changed anything')

  // The refusals are about scopes, not broken tokens: each scope is accepted where the document says.
  for (const op of operations.filter((o) => o.method === 'GET')) {
    for (const s of op.scopes!) {
      const res = await request(op, tokens.get(s)!, s === 'admin' ? { ...aKnown } : aKnown, A.member)
      t.not(res.statusCode, 403, `${s} token is accepted by ${op.id} (${res.statusCode})`)
    }
  }
})
