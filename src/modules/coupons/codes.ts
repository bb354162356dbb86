export { normalizeCode, randomCode } from '../../shared/codes.js'

/** What a shared code (chosen by the retailer) may look like once upper-cased. */
export const SHARED_CODE = /^[A-Z0-9][A-Z0-9_-]{2,31}$/
