/**
 * Picks the representation to send from an Accept header (RFC 9110 12.5.1): the offered type
 * with the highest q, the most specific match deciding a type's q, ties going to the order
 * offered. No header, or only wildcards: the first offered. Nothing acceptable: undefined.
 */
export function negotiate(accept: string | undefined, offered: readonly string[]): string | undefined {
  if (!accept || !accept.trim()) return offered[0]
  const ranges = accept
    .split(',')
    .map((part) => {
      const [range, ...params] = part.trim().toLowerCase().split(';')
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      const value = q ? Number(q.slice(2)) : 1
      return { range: range!.trim(), q: Number.isFinite(value) ? value : 0 }
    })
    .filter((r) => r.range.includes('/'))
  let best: { type: string; q: number } | undefined
  for (const type of offered) {
    const [major] = type.split('/')
    const match =
      ranges.find((r) => r.range === type) ?? ranges.find((r) => r.range === `${major}/*`) ?? ranges.find((r) => r.range === '*/*')
    if (match && match.q > 0 && (!best || match.q > best.q)) best = { type, q: match.q }
  }
  return best?.type
}
