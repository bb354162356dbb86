import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'

/**
 * E.164 form of a phone number, reading national forms in the program's region
 * (`0912345678` in VN is `+84912345678`); undefined when it is not a valid number.
 */
export function normalizePhone(input: string, region: string): string | undefined {
  const parsed = parsePhoneNumberFromString(input, { defaultCountry: region as CountryCode, extract: false })
  if (!parsed || !parsed.isValid()) return undefined
  return parsed.number
}

/** `+84912345678` -> `+84*****5678`: enough for a cashier to recognise, not to dial. */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164)
  const cc = parsed ? `+${parsed.countryCallingCode}` : e164.slice(0, 3)
  const rest = e164.slice(cc.length)
  return `${cc}${'*'.repeat(Math.max(rest.length - 4, 0))}${rest.slice(-4)}`
}
