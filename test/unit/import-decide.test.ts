import t from 'tap'
import { changesOf, chunkKeys, decideChunk, type Decision, type KnownMember } from '../../src/modules/imports/decide.js'
import { footprintOf, plannedIndependently } from '../../src/modules/imports/footprint.js'
import { BALANCES_IGNORED, countsOf, planChunk } from '../../src/modules/imports/plan.js'
import type { MemberFields, ReadRow } from '../../src/modules/imports/rows.js'
import { openingEntry, openingsStep, openingWallets } from '../../src/modules/ledger/opening-step.js'
import { accountId, openingBalance } from '../../src/modules/ledger/accounts.js'

const NOW = new Date('2026-12-03T05:00:00Z')
let n = 0
const ctx = { now: NOW, newId: () => `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}` }

const row = (r: number, member: Partial<MemberFields> & { phone: string }, balances: { points?: bigint; sv?: bigint } = {}): ReadRow => ({
  row: r,
  line: r + 1,
  member: { name: 'Lan', consents: [], ...member },
  openingPoints: balances.points ?? 0n,
  openingStoredValue: balances.sv ?? 0n,
})
const refusedRow = (r: number): ReadRow => ({ row: r, line: r + 1, refused: { code: 'VALIDATION_FAILED', field: 'phone', message: 'phone: not a valid phone number' } })
const known = (m: Partial<KnownMember> & { id: string }): KnownMember => ({
  phone: null,
  externalId: null,
  cardNumber: null,
  name: 'Lan',
  email: null,
  birthday: null,
  doNotContact: false,
  smsMarketingConsent: false,
  emailMarketingConsent: false,
  updatedAt: '2026-01-01 00:00:00.123456+00',
  seen: false,
  ...m,
})
const summary = (ds: Decision[]) => ds.map((d) => (d.status === 'refused' ? [d.row, d.code, d.field] : [d.row, d.status]))

t.test('a row matching nobody creates a member, with its balances and its consents dated', async (t) => {
  const [d] = decideChunk([row(1, { phone: '+84981000001', externalId: 'X1', consents: [{ purpose: 'smsMarketing', granted: true }] }, { points: 5n, sv: 100n })], [], ctx)
  t.match(d, { status: 'created', openingPoints: 5n, openingStoredValue: 100n, consents: [{ purpose: 'smsMarketing', granted: true, at: NOW }] })
})

t.test('the match key: the external id, else the phone of a member without an external id of its own', async (t) => {
  const byExternal = known({ id: 'm1', externalId: 'X1', phone: '+84981000001' })
  const tillOnly = known({ id: 'm2', phone: '+84981000002' })
  const otherSystem = known({ id: 'm3', externalId: 'OTHER', phone: '+84981000003' })
  const ds = decideChunk(
    [
      row(1, { phone: '+84981000001', externalId: 'X1' }),
      row(2, { phone: '+84981000002', externalId: 'X2' }),
      row(3, { phone: '+84981000003', externalId: 'X3' }),
      row(4, { phone: '+84981000004', externalId: 'X1' }),
    ],
    [byExternal, tillOnly, otherSystem],
    ctx,
  )
  t.same(summary(ds), [
    [1, 'unchanged'],
    [2, 'updated'],
    [3, 'CONFLICT', 'phone'],
    [4, 'DUPLICATE_IN_FILE', 'externalId'],
  ])
  t.match(ds[1], { memberId: 'm2', changes: { externalId: 'X2' }, expectUpdatedAt: '2026-01-01 00:00:00.123456+00' }, 'the till’s member takes the external id, guarded by its version')
  t.match(ds[2], { message: 'another member of this program already has this phone' })
})

t.test('without an external id the phone is the key; a card number held by another member refuses the row', async (t) => {
  const ds = decideChunk(
    [row(1, { phone: '+84981000001', cardNumber: 'C9' }), row(2, { phone: '+84981000005', cardNumber: 'C1' })],
    [known({ id: 'm1', phone: '+84981000001', cardNumber: 'C1' }), known({ id: 'm2', phone: '+84981000002', cardNumber: 'C9' })],
    ctx,
  )
  t.same(summary(ds), [
    [1, 'CONFLICT', 'cardNumber'],
    [2, 'CONFLICT', 'cardNumber'],
  ])
})

t.test('a member or key met by an earlier row, in this chunk or an earlier one, is a duplicate in the file', async (t) => {
  const label = (f: string) => ({ phone: 'Phone', externalId: 'external_id', cardNumber: 'card_number' })[f] ?? f
  const ds = decideChunk(
    [
      row(1, { phone: '+84981000001', externalId: 'A' }),
      row(2, { phone: '+84981000001', externalId: 'B' }),
      row(3, { phone: '+84981000003', externalId: 'A' }),
      row(4, { phone: '+84981000009', externalId: 'SEEN' }),
      row(5, { phone: '+84981000008' }),
      refusedRow(6),
      row(7, { phone: '+84981000007', cardNumber: 'K', externalId: 'K1' }),
      row(8, { phone: '+84981000006', cardNumber: 'K', externalId: 'K2' }),
    ],
    [known({ id: 'seen', externalId: 'SEEN', phone: '+84981000009', seen: true }), known({ id: 'seen2', phone: '+84981000008', seen: true })],
    { ...ctx, label },
  )
  t.same(summary(ds), [
    [1, 'created'],
    [2, 'DUPLICATE_IN_FILE', 'Phone'],
    [3, 'DUPLICATE_IN_FILE', 'external_id'],
    [4, 'DUPLICATE_IN_FILE', 'external_id'],
    [5, 'DUPLICATE_IN_FILE', 'Phone'],
    [6, 'VALIDATION_FAILED', 'phone'],
    [7, 'created'],
    [8, 'DUPLICATE_IN_FILE', 'card_number'],
  ])
  t.match(ds[1], { message: 'an earlier row of this file has the same phone' })
})

t.test('an update changes the fields given and never clears one; a repeated consent keeps its first date', async (t) => {
  const current = known({ id: 'm', externalId: 'X', phone: '+84981000001', name: 'Lan', email: 'a@x.vn', birthday: '1990-01-01', smsMarketingConsent: true })
  t.same(changesOf(current, { name: 'Lan', phone: '+84981000001', consents: [{ purpose: 'smsMarketing', granted: true, at: new Date('2020-01-01T00:00:00Z') }] }, NOW), { changes: {}, consents: [] }, 'nothing given differs')
  const at = new Date('2025-05-05T00:00:00Z')
  t.same(
    changesOf(current, { name: 'Lan B', phone: '+84981000002', birthday: '1990-01-02', doNotContact: true, consents: [{ purpose: 'smsMarketing', granted: false, at }, { purpose: 'emailMarketing', granted: true }] }, NOW),
    {
      changes: { name: 'Lan B', phone: '+84981000002', birthday: '1990-01-02', doNotContact: true, smsMarketingConsent: false, smsMarketingConsentAt: at, emailMarketingConsent: true, emailMarketingConsentAt: NOW },
      consents: [
        { purpose: 'smsMarketing', granted: false, at },
        { purpose: 'emailMarketing', granted: true, at: NOW },
      ],
    },
  )
  const [d] = decideChunk([row(1, { phone: '+84981000001', externalId: 'X' }, { points: 10n })], [current], ctx)
  t.match(d, { status: 'unchanged', balancesIgnored: true }, 'balances of a member already there are not posted')
})

t.test('the plan of a chunk: members, consents, openings and results, the import’s counts guarded by its runner and rows read', async (t) => {
  const program = { id: '0190a000-0000-7000-8000-000000000001', currency: 'VND' }
  const decisions = decideChunk(
    [row(1, { phone: '+84981000001', externalId: 'N', consents: [{ purpose: 'emailMarketing', granted: true }] }, { points: 10n, sv: 500n }), row(2, { phone: '+84981000002', externalId: 'O' }, { points: 3n }), refusedRow(3), row(4, { phone: '+84981000004' })],
    [known({ id: 'old', externalId: 'O', phone: '+84981000002' })],
    ctx,
  )
  const run = { id: '0190a000-0000-7000-8000-0000000000aa', runner: '0190a000-0000-7000-8000-0000000000bb', rowsRead: 500 }
  const { plan, counts } = planChunk(program, run, decisions, { now: NOW, actor: 'importer', pointsExpireAt: null })
  t.same(counts, { rows: 4, created: 2, updated: 0, unchanged: 1, refused: 1, pointsOpened: 10n, storedValueOpened: 500n })
  t.same(countsOf(decisions), counts)
  const steps = plan.rows!
  t.same(steps.map((s) => [s.op, s.table]), [['insert', 'members'], ['insert', 'member_consent_events'], ['insert', 'member_import_rows'], ['update', 'member_imports']])
  const members = (steps[0] as { rows: Record<string, unknown>[] }).rows
  t.equal(members.length, 2)
  t.match(members[0], { program_id: program.id, external_id: 'N', phone: '+84981000001', email_marketing_consent: true, email_marketing_consent_at: NOW.toISOString(), created_at: NOW.toISOString() })
  t.match(members[0]!.referral_code, /^[0-9A-Z]{10}$/, 'a referral code of its own')
  const results = (steps[2] as { rows: Record<string, unknown>[] }).rows
  t.same(results.map((r) => [r.row_number, r.status, r.code, r.message]), [
    [1, 'created', null, null],
    [2, 'unchanged', null, BALANCES_IGNORED],
    [3, 'refused', 'VALIDATION_FAILED', 'phone: not a valid phone number'],
    [4, 'created', null, null],
  ])
  t.match(steps[3], { key: { id: run.id }, add: { rows_read: '4', created: '2', refused: '1', points_opened: '10', stored_value_opened: '500' }, expect: { runner: run.runner, rows_read: 500, status: 'running' } })
  t.equal(plan.openings!.entries.length, 1, 'one opening entry: the created member without balances has none')
  t.equal(plan.openings!.lots.length, 1)
})

t.test('an opening: points and stored value against the opening_balance accounts, one lot for the points', async (t) => {
  const program = { id: '0190a000-0000-7000-8000-000000000001', currency: 'VND' }
  t.equal(openingEntry('VND', { memberId: 'm', entryId: 'e', points: 0n, storedValue: 0n, referenceType: 'member_import', referenceId: 'i' }, NOW), undefined, 'nothing to open, no entry')
  t.throws(() => openingEntry('VND', { memberId: 'm', entryId: 'e', points: -1n, storedValue: 0n, referenceType: 'member_import', referenceId: 'i' }, NOW))
  const memberId = '0190a000-0000-7000-8000-0000000000cc'
  const expires = new Date('2027-12-31T17:00:00Z')
  const { step, systemAccountIds } = openingsStep(program, [{ memberId, entryId: '0190a000-0000-7000-8000-0000000000dd', points: 120n, storedValue: 250000n, referenceType: 'member_import', referenceId: 'imp' }], { now: NOW, actor: 'importer', pointsExpireAt: expires })
  const [entry] = step.entries
  t.match(entry!.entry, { kind: 'opening_balance', memberId, referenceType: 'member_import', referenceId: 'imp' })
  const [points, storedValue] = openingWallets(program.id, 'VND', memberId)
  t.same(
    entry!.postings.map((p) => [p.accountId, p.amount, p.wallet]).sort(),
    [
      [accountId(program.id, openingBalance('POINTS')), '-120', false],
      [accountId(program.id, openingBalance('VND')), '-250000', false],
      [points, '120', true],
      [storedValue, '250000', true],
    ].sort(),
  )
  t.match(step.lots, [{ kind: 'open', memberId, points: '120', expiresAt: expires.toISOString(), accountId: points }])
  t.same(systemAccountIds.sort(), [accountId(program.id, openingBalance('POINTS')), accountId(program.id, openingBalance('VND'))].sort())
})

t.test('a chunk planned before the previous one committed stands only when it decided on nothing that one wrote', async (t) => {
  const first = [row(1, { phone: '+84981000001', externalId: 'A' }), row(2, { phone: '+84981000002' })]
  const firstKnown = [known({ id: 'm2', phone: '+84981000002' })]
  const previous = footprintOf(first, firstKnown, decideChunk(first, firstKnown, ctx))
  const footprint = (rows: ReadRow[], k: KnownMember[] = []) => footprintOf(rows, k, decideChunk(rows, k, ctx))
  t.ok(plannedIndependently(previous, footprint([row(3, { phone: '+84981000003', externalId: 'C' })])), 'other keys, other members')
  t.notOk(plannedIndependently(previous, footprint([row(3, { phone: '+84981000003', externalId: 'A' })])), 'an external id the previous chunk created')
  t.notOk(plannedIndependently(previous, footprint([row(3, { phone: '+84981000002', externalId: 'Z' })])), 'a phone the previous chunk met')
  t.notOk(plannedIndependently(previous, footprint([row(3, { phone: '+84981000004', cardNumber: 'K' })], [known({ id: 'm2', phone: '+84981000009', cardNumber: 'K' })])), 'a member the previous chunk touched, found by another key')
  t.same(chunkKeys([...first, refusedRow(3)]), { externalIds: ['A'], phones: ['+84981000001', '+84981000002'], cardNumbers: [] })
})
