import { currencyExponent, formatMinorUnits } from '../../shared/money.js'
import { isoTimestamp } from '../../shared/schemas.js'
import type { RowCode } from './rows.js'
import type { MemberImportRow, MemberImportRowResult } from './tables.js'

export const importPath = (id: string) => `/v1/member-imports/${id}`

/** An import as POST /v1/members/imports answers it and GET /v1/member-imports/{id} shows it: the same function, so a replay is the same bytes. */
export function importView(r: MemberImportRow, currency: string) {
  return {
    id: r.id,
    status: r.status as 'running' | 'completed' | 'failed' | 'interrupted',
    format: r.format as 'csv' | 'ndjson',
    rows: r.rowsRead,
    created: r.created,
    updated: r.updated,
    unchanged: r.unchanged,
    refused: r.refused,
    openingBalances: { points: r.pointsOpened.toString(), storedValue: formatMinorUnits(r.storedValueOpened, currencyExponent(currency) ?? 0), currency },
    problem: r.problem ? { code: r.problem.code, detail: r.problem.detail } : null,
    createdAt: isoTimestamp(r.createdAt),
    completedAt: r.completedAt ? isoTimestamp(r.completedAt) : null,
    links: { self: importPath(r.id), rows: `${importPath(r.id)}/rows`, refused: `${importPath(r.id)}/rows?status=refused` },
  }
}

export type ImportView = ReturnType<typeof importView>

export function importRowView(r: MemberImportRowResult) {
  return {
    row: r.rowNumber,
    line: r.line,
    status: r.status as 'created' | 'updated' | 'unchanged' | 'refused',
    memberId: r.memberId,
    code: r.code as RowCode | null,
    field: r.field,
    message: r.message,
  }
}
