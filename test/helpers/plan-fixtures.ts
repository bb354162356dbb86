// The program and rules the unit tests of pure plans share: a VND program in Ho Chi Minh City
// earning 1 point per 10,000 VND, a point worth 100 VND.
import { defaultRules, type ProgramRules } from '../../src/modules/programs/rules.js'
import type { ProgramRow } from '../../src/modules/programs/tables.js'

export const PROGRAM_ID = '00000000-0000-4000-8000-000000000001'

/** The program row, created (and last changed) at `at`. */
export const vndProgram = (at: Date): ProgramRow => ({
  id: PROGRAM_ID,
  name: 'P',
  currency: 'VND',
  timezone: 'Asia/Ho_Chi_Minh',
  country: 'VN',
  rules: {},
  rulesEffectiveFrom: new Date('2026-01-01T00:00:00Z'),
  createdAt: at,
  updatedAt: at,
})

/** Default rules with that earning and point value, then `over`. */
export const earningRules = (over: Partial<ProgramRules> = {}): ProgramRules => ({
  ...defaultRules(),
  earning: { points: 1, per: '10000', rounding: 'down', excludedCategories: [], categoryMultipliers: {} },
  pointValue: '100',
  ...over,
})
