import { z } from 'zod'
import { cursorSchema, limitSchema } from '../../shared/pagination.js'
import { ROW_CODES } from './rows.js'

export const IMPORT_MEDIA_TYPES = ['text/csv', 'application/x-ndjson'] as const

export const importFileSchema = z
  .string()
  .describe(
    'The members to import, streamed. text/csv (RFC 4180, UTF-8, comma-separated, a header row): columns name and phone, and any of email, birthday, external_id, card_number, ' +
      'sms_marketing, sms_marketing_at, email_marketing, email_marketing_at, do_not_contact, opening_points, opening_stored_value (snake_case or camelCase, any order; an empty cell is absent; ' +
      'booleans true/false, yes/no or 1/0; a consent date is an ISO 8601 instant or a date, the start of that day in the program time zone). ' +
      'application/x-ndjson: one JSON object a line, the fields of POST /v1/members (no referralCode) and openingPoints (whole points) and openingStoredValue (a decimal string). ' +
      'At most 200 MB and 1,000,000 rows.',
  )

export const importParamsSchema = z.object({ importId: z.uuid() })

const balancesSchema = z.object({
  points: z.string().describe('Points opened for the members this import created, a whole number'),
  storedValue: z.string().describe('Stored value opened for them, major units of `currency`'),
  currency: z.string(),
})

export const importSchema = z
  .object({
    id: z.uuid(),
    status: z
      .enum(['running', 'completed', 'failed', 'interrupted'])
      .describe('completed: every row has its result. failed: stopped by a limit or an unreadable file (see `problem`); the rows before were imported. interrupted: the upload broke off; the same request with the same Idempotency-Key resumes it. running: a request is importing it now'),
    format: z.enum(['csv', 'ndjson']),
    rows: z.number().int().describe('Data rows read and answered so far (a CSV header is not one)'),
    created: z.number().int().describe('Rows that created a member (with their opening balances)'),
    updated: z.number().int().describe('Rows that changed a member already there (no balances are posted for them)'),
    unchanged: z.number().int().describe('Rows whose member was already there as the row says (importing a file again answers these)'),
    refused: z.number().int().describe('Rows refused, each with its reason (GET the rows with status=refused)'),
    openingBalances: balancesSchema,
    problem: z.object({ code: z.string(), detail: z.string() }).nullable().describe('failed: why the import stopped'),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    links: z.object({ self: z.string(), rows: z.string(), refused: z.string().describe('The refused rows, with their reasons') }),
  })
  .meta({ id: 'MemberImport' })

export const importRowSchema = z
  .object({
    row: z.number().int().describe('1-based position among the file’s data rows (a CSV header is not one)'),
    line: z.number().int().describe('The line of the file where the row starts (1-based; a quoted field may span lines)'),
    status: z.enum(['created', 'updated', 'unchanged', 'refused']),
    memberId: z.uuid().nullable().describe('The member the row created, updated or found unchanged'),
    code: z
      .enum(ROW_CODES)
      .nullable()
      .describe(
        'refused: VALIDATION_FAILED (a field breaks the rules of POST /v1/members, `field` names it), CONFLICT (another member holds the phone, external id or card number), ' +
          'DUPLICATE_IN_FILE (an earlier row of the file has the same member or key), MALFORMED_ROW (not a record of the format: the wrong number of fields, a stray quote, not a JSON object)',
      ),
    field: z.string().nullable().describe('The column (CSV, as the header names it) or field (NDJSON) refused'),
    message: z.string().nullable().describe('Why, in words; never the refused value itself'),
  })
  .meta({ id: 'MemberImportRow' })

export const importRowsQuerySchema = z
  .object({
    status: z.enum(['created', 'updated', 'unchanged', 'refused']).optional(),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  .strict()
