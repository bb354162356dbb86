import type { Database, Executor } from '../../db/client.js'
import { AppError, conflict, notFound, pgErrorOf, validationFailed } from '../../shared/errors.js'
import { randomCode } from '../../shared/codes.js'
import { newId } from '../../shared/ids.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { isoTimestamp } from '../../shared/schemas.js'
import type { ProgramRow } from '../programs/tables.js'
import { emitMemberEnrolled } from '../events/care.js'
import { normalizePhone } from './phone.js'
import { referrerIdForCode } from './referral-code.js'
import * as repo from './repository.js'
import type { MemberCreate, MemberPatch, MemberView } from './schemas.js'
import type { MemberRow } from './tables.js'

export function toMemberView(m: MemberRow): MemberView {
  const at = (d: Date | null) => (d ? isoTimestamp(d) : null)
  return {
    id: m.id,
    name: m.name,
    phone: m.phone,
    email: m.email,
    birthday: m.birthday,
    externalId: m.externalId,
    cardNumber: m.cardNumber,
    consents: {
      smsMarketing: { granted: m.smsMarketingConsent, at: at(m.smsMarketingConsentAt) },
      emailMarketing: { granted: m.emailMarketingConsent, at: at(m.emailMarketingConsentAt) },
    },
    doNotContact: m.doNotContact,
    createdAt: isoTimestamp(m.createdAt),
    updatedAt: isoTimestamp(m.updatedAt),
    erasedAt: at(m.erasedAt),
    referralCode: m.referralCode,
    referredBy: m.referredBy,
  }
}

function phoneOrThrow(input: string, program: ProgramRow, path = 'body/phone'): string {
  const phone = normalizePhone(input, program.country)
  if (!phone) throw validationFailed(`phone: not a valid phone number (national numbers are read as ${program.country})`, [{ path, message: 'not a valid phone number' }])
  return phone
}

const UNIQUE_FIELDS: Record<string, string> = {
  members_program_phone_key: 'phone',
  members_program_external_id_key: 'externalId',
  members_program_card_number_key: 'cardNumber',
}

/** A unique violation becomes a 409 naming the field another member already holds. */
/** A unique violation of a member's phone, external id or card number as the 409 it means. */
export function duplicateAsConflict(err: unknown): never {
  const pg = pgErrorOf(err)
  const field = pg.code === '23505' && pg.constraint ? UNIQUE_FIELDS[pg.constraint] : undefined
  if (field) throw conflict(`Another member of this program already has this ${field}`, { field })
  throw err
}

type ConsentPurpose = 'smsMarketing' | 'emailMarketing'

function consentChanges(consents: MemberCreate['consents'], now: Date) {
  const changes: { purpose: ConsentPurpose; granted: boolean; at: Date }[] = []
  for (const purpose of ['smsMarketing', 'emailMarketing'] as const) {
    const c = consents?.[purpose]
    if (!c) continue
    const at = c.at ? new Date(c.at) : now
    if (at.getTime() > now.getTime() + 5 * 60_000) throw validationFailed('a consent cannot be given in the future', [{ path: `body/consents/${purpose}/at`, message: 'in the future' }])
    changes.push({ purpose, granted: c.granted, at })
  }
  return changes
}

function consentColumns(changes: ReturnType<typeof consentChanges>) {
  const cols: Partial<MemberRow> = {}
  for (const c of changes) {
    if (c.purpose === 'smsMarketing') Object.assign(cols, { smsMarketingConsent: c.granted, smsMarketingConsentAt: c.at })
    else Object.assign(cols, { emailMarketingConsent: c.granted, emailMarketingConsentAt: c.at })
  }
  return cols
}

const consentEventRows = (programId: string, memberId: string, changes: ReturnType<typeof consentChanges>, recordedBy: string) =>
  changes.map((c) => ({ programId, id: newId(), memberId, purpose: c.purpose, granted: c.granted, effectiveAt: c.at, recordedBy }))

/**
 * Erases what another module keeps of a member's personal data (the free text of their survey
 * answers), in the transaction of the member's erasure. Those modules build on members, so app.ts
 * hands their erasers in rather than members importing them.
 */
export type PersonalDataEraser = (tx: Executor, programId: string, memberId: string) => Promise<void>

export function createMembersService(database: Database, erasers: readonly PersonalDataEraser[]) {
  const db = database.db

  async function getMember(program: ProgramRow, memberId: string): Promise<MemberRow> {
    const member = await repo.findMember(db, program.id, memberId)
    if (!member) throw notFound('Member')
    return member
  }

  return {
    getMember,

    /** Enrols in the caller's transaction (the idempotent one of POST /v1/members); map its errors with duplicateAsConflict. */
    async enroll(tx: Executor, program: ProgramRow, input: MemberCreate, actor: string): Promise<MemberRow> {
      const now = new Date()
      const changes = consentChanges(input.consents, now)
      const id = newId()
      const referredBy = input.referralCode === undefined ? null : await referrerIdForCode(tx, program.id, input.referralCode)
      const member = await repo.insertMember(tx, {
        programId: program.id,
        id,
        name: input.name,
        phone: phoneOrThrow(input.phone, program),
        email: input.email ?? null,
        birthday: input.birthday ?? null,
        externalId: input.externalId ?? null,
        cardNumber: input.cardNumber ?? null,
        doNotContact: input.doNotContact ?? false,
        referredBy,
        ...consentColumns(changes),
      })
      await repo.insertConsentEvents(tx, consentEventRows(program.id, id, changes, actor))
      // The welcome (member.enrolled) commits with the member, or not at all.
      await emitMemberEnrolled(tx, program, member, { now })
      return member
    },

    async list(program: ProgramRow, query: { phone?: string; externalId?: string; cardNumber?: string; limit: number; cursor?: string }) {
      const after = decodeCursor(query.cursor, (k) => /^[0-9a-f-]{36}$/.test(k))
      const phone = query.phone === undefined ? undefined : phoneOrThrow(query.phone, program, 'querystring/phone')
      const rows = await repo.listMembers(db, program.id, { phone, externalId: query.externalId, cardNumber: query.cardNumber }, query.limit, after)
      return page(rows, query.limit, (m) => m.id)
    },

    async update(program: ProgramRow, memberId: string, patch: MemberPatch, actor: string): Promise<MemberRow> {
      const now = new Date()
      const changes = consentChanges(patch.consents, now)
      const { consents: _consents, phone, ...fields } = patch
      return database
        .transaction(async (tx) => {
          const current = await repo.findMember(tx, program.id, memberId)
          if (!current) throw notFound('Member')
          if (current.erasedAt) throw new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; the record can no longer change')
          const updated = await repo.updateMember(tx, program.id, memberId, {
            ...fields,
            ...(phone !== undefined ? { phone: phoneOrThrow(phone, program) } : {}),
            ...consentColumns(changes),
          })
          await repo.insertConsentEvents(tx, consentEventRows(program.id, memberId, changes, actor))
          return updated!
        })
        .catch(duplicateAsConflict)
    },

    /**
     * Erasure (Law 91/2025/QH15): every personal field goes, the anonymous id stays so the
     * ledger keeps balancing. Erasing twice is not an error.
     */
    async erase(program: ProgramRow, memberId: string, actor: string): Promise<void> {
      const member = await getMember(program, memberId)
      // One transaction: the member's fields and what other modules keep of them (survey comments:
      // free text they wrote, personal data too; the anonymous scores stay) go together or not at all.
      await database.transaction(async (tx) => {
        if (!member.erasedAt) {
          await repo.updateMember(tx, program.id, memberId, {
            name: null,
            phone: null,
            email: null,
            birthday: null,
            externalId: null,
            cardNumber: null,
            smsMarketingConsent: false,
            emailMarketingConsent: false,
            doNotContact: true,
            // A fresh code: the one the member shared can no longer be tied to the anonymous id.
            referralCode: randomCode(),
            erasedAt: new Date(),
            erasedBy: actor,
          })
        }
        for (const erase of erasers) await erase(tx, program.id, memberId)
      })
    },
  }
}

export type MembersService = ReturnType<typeof createMembersService>
