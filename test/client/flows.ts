// An integrator's client of the main flows, written as a POS vendor would: openapi-fetch over the
// types openapi-typescript generates with its default options from openapi/openapi.yaml (imported
// as `loyalty-ledger-openapi`, which test/integration/generated-client.test.ts maps to the types
// it has just generated). That test type-checks this file strictly and runs it against a service;
// the project's own typecheck leaves this folder out because the types exist only during the test.
import { randomUUID } from 'node:crypto'
import createClient from 'openapi-fetch'
import type { paths } from 'loyalty-ledger-openapi'

export interface Credentials {
  clientId: string
  clientSecret: string
}

/** What the flows saw, for the test to assert. */
export interface FlowsResult {
  currency: string
  memberId: string
  topUpBalance: string
  purchase: { status: string; total: string; pointsEarned: number; storedValueUsed: string; receiptId: string }
  purchaseReplayed: string | null
  return: { amount: string; storedValueReturned: string; pointsClawedBack: number; receiptId: string }
  receipt: { kind: string; total: string; memberId: string | null }
  returnReceiptKind: string
  balances: { points: number; storedValue: string }
  wrongSecret: { status: number; code: string | undefined }
}

/** A problem's `code` (or the OAuth `error`), whichever the error body carries. */
function codeOf(error: unknown): string | undefined {
  const e = error as { code?: unknown; error?: unknown } | undefined
  return typeof e?.code === 'string' ? e.code : typeof e?.error === 'string' ? e.error : undefined
}

function must<T>(what: string, r: { data?: T; error?: unknown; response: Response }): T {
  if (r.data === undefined) throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`)
  return r.data
}

/** A receipt is served as JSON, HTML or text (Accept); this client reads the JSON. */
function jsonOf<T>(what: string, v: T): Exclude<T, string> {
  if (typeof v === 'string') throw new Error(`${what}: a text answer where JSON was expected`)
  return v as Exclude<T, string>
}

export async function runFlows(baseUrl: string, admin: Credentials): Promise<FlowsResult> {
  const api = createClient<paths>({ baseUrl })
  const tokenOf = async (c: Credentials) =>
    must('token', await api.POST('/v1/oauth/token', { body: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret } })).access_token
  const auth = (token: string) => ({ authorization: `Bearer ${token}` })

  const wrong = await api.POST('/v1/oauth/token', { body: { grant_type: 'client_credentials', client_id: admin.clientId, client_secret: `${admin.clientSecret}-wrong` } })
  const adminToken = await tokenOf(admin)

  const program = must(
    'program',
    await api.POST('/v1/programs', {
      params: { header: { 'Idempotency-Key': randomUUID() } },
      headers: auth(adminToken),
      body: { name: 'Generated client program', currency: 'VND', rules: { earning: { points: 1, per: '10000' }, pointValue: '100' } },
    }),
  )
  const client = must(
    'client',
    await api.POST('/v1/programs/{programId}/clients', {
      params: { path: { programId: program.id }, header: { 'Idempotency-Key': randomUUID() } },
      headers: auth(adminToken),
      body: { name: 'till', scopes: ['pos', 'members:write', 'balances:read'] },
    }),
  )
  const token = await tokenOf({ clientId: client.clientId, clientSecret: client.clientSecret })

  const member = must('member', await api.POST('/v1/members', { params: { header: { 'Idempotency-Key': randomUUID() } }, headers: auth(token), body: { name: 'Trần Thị B', phone: '0987650001' } }))
  const topUp = must(
    'top-up',
    await api.POST('/v1/members/{memberId}/stored-value/top-ups', {
      params: { path: { memberId: member.id }, header: { 'Idempotency-Key': randomUUID() } },
      headers: auth(token),
      body: { amount: '200000', tender: 'cash', storeId: 'S1' },
    }),
  )

  const saleKey = randomUUID()
  const sale = {
    params: { header: { 'Idempotency-Key': saleKey } },
    headers: auth(token),
    body: {
      memberId: member.id,
      storeId: 'S1',
      terminalId: 'T1',
      externalId: `GEN-${randomUUID()}`,
      currency: 'VND',
      lines: [{ sku: 'TEA', name: 'Trà sữa', quantity: 2, unitPrice: '75000' }],
      tenders: [
        { type: 'storedValue' as const, amount: '50000' },
        { type: 'cash' as const, amount: '100000' },
      ],
    },
  }
  const purchase = must('purchase', await api.POST('/v1/purchases', sale))
  const replay = await api.POST('/v1/purchases', sale)

  const returned = must(
    'return',
    await api.POST('/v1/purchases/{purchaseId}/returns', {
      params: { path: { purchaseId: purchase.id }, header: { 'Idempotency-Key': randomUUID() } },
      headers: auth(token),
      body: { lines: [{ sku: 'TEA', quantity: 1 }], reason: 'one cup too many' },
    }),
  )
  const receipt = jsonOf('receipt', must('receipt', await api.GET('/v1/receipts/{receiptId}', { params: { path: { receiptId: purchase.receipt.id } }, headers: auth(token) })))
  const returnReceipt = jsonOf('return receipt', must('return receipt', await api.GET('/v1/receipts/{receiptId}', { params: { path: { receiptId: returned.receipt.id } }, headers: auth(token) })))
  const balances = must('balances', await api.GET('/v1/members/{memberId}/balances', { params: { path: { memberId: member.id } }, headers: auth(token) }))

  return {
    currency: program.currency,
    memberId: member.id,
    topUpBalance: topUp.balances.storedValue.balance,
    purchase: { status: purchase.status, total: purchase.total, pointsEarned: purchase.pointsEarned, storedValueUsed: purchase.storedValueUsed, receiptId: purchase.receipt.id },
    purchaseReplayed: replay.response.headers.get('idempotent-replayed'),
    return: { amount: returned.amount, storedValueReturned: returned.storedValueReturned, pointsClawedBack: returned.pointsClawedBack, receiptId: returned.receipt.id },
    receipt: { kind: receipt.kind, total: receipt.totals.total, memberId: receipt.member?.id ?? null },
    returnReceiptKind: returnReceipt.kind,
    balances: { points: balances.points.balance, storedValue: balances.storedValue.balance },
    wrongSecret: { status: wrong.response.status, code: codeOf(wrong.error) },
  }
}
