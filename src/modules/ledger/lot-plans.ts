/**
 * Decisions about points lots and the holds that reserve them, pure (the I/O in lots.ts and
 * expiry.ts loads the lots, asks these, and applies the answer). A lot's `held` part is reserved
 * by pending holds; the rest is free: ordinary debits and expiry only ever take free points.
 */

export interface LotState {
  id: string
  /** Usable before this instant; null: never expires. */
  expiresAt: Date | null
  remaining: bigint
  held: bigint
}

export interface LotShare {
  lotId: string
  points: bigint
}

/** A lot as a hold's release leaves it, with what the hold had reserved of it. */
export interface ReleasedLot extends LotState {
  memberId: string
  reserved: bigint
}

export interface Reservation {
  holdId: string
  lotId: string
  points: bigint
}

const expiryTime = (l: { expiresAt: Date | null }) => (l.expiresAt === null ? Infinity : l.expiresAt.getTime())

/** Soonest-expiring first (never-expiring last), then by id: the order every debit takes lots in. */
export function soonestFirst<T extends { expiresAt: Date | null; id?: string; lotId?: string }>(a: T, b: T): number {
  const byExpiry = expiryTime(a) - expiryTime(b)
  if (byExpiry !== 0) return byExpiry
  const [x, y] = [a.id ?? a.lotId ?? '', b.id ?? b.lotId ?? '']
  return x < y ? -1 : x > y ? 1 : 0
}

const min = (a: bigint, b: bigint) => (a < b ? a : b)
const sum = (shares: { points: bigint }[]) => shares.reduce((s, x) => s + x.points, 0n)

/** Takes up to `points` from `pieces` in the order given; what each piece gives, zeros left out. */
function takeInOrder<T extends { points: bigint }>(pieces: T[], points: bigint): T[] {
  const taken: T[] = []
  let left = points
  for (const piece of pieces) {
    if (left <= 0n) break
    const take = min(piece.points, left)
    if (take > 0n) taken.push({ ...piece, points: take })
    left -= take
  }
  return taken
}

const freeOf = (l: LotState) => l.remaining - l.held

/**
 * Which lots a hold of `points` reserves: the free part of each, soonest-expiring first (the lots
 * its capture will consume). When the lots hold less than asked (only after an overdraft), it
 * reserves what there is.
 */
export function reserveLots(lots: LotState[], points: bigint): LotShare[] {
  const pieces = [...lots].sort(soonestFirst).map((l) => ({ lotId: l.id, points: freeOf(l) }))
  return takeInOrder(pieces, points)
}

/**
 * What a capture of `points` takes from the lots its hold reserved: exactly the reservation when
 * the whole hold is captured, else its soonest-expiring part (the rest goes back to its lots).
 */
export function takeReserved(released: ReleasedLot[], points: bigint): LotShare[] {
  const pieces = [...released].sort(soonestFirst).map((l) => ({ lotId: l.id, points: l.reserved }))
  return takeInOrder(pieces, points)
}

/**
 * What an expiry at `asOf` turns into breakage: the free part of every lot due by then, after
 * what `taken` already took from them in this transaction (a capture), at most `limit` points
 * (what the wallet has available). Held parts stay while their holds last.
 */
export function dueShares(lots: LotState[], asOf: Date, options: { taken?: LotShare[]; limit?: bigint } = {}): LotShare[] {
  const takenOf = (id: string) => sum((options.taken ?? []).filter((s) => s.lotId === id))
  const pieces = lots
    .filter((l) => l.expiresAt !== null && l.expiresAt.getTime() <= asOf.getTime())
    .sort(soonestFirst)
    .map((l) => ({ lotId: l.id, points: freeOf(l) - takenOf(l.id) }))
    .filter((s) => s.points > 0n)
  return options.limit === undefined ? pieces : takeInOrder(pieces, options.limit)
}

export interface OverdraftTakes {
  /** Per lot: points taken, of which `held` came out of its reserved part. */
  takes: (LotShare & { held: bigint })[]
  /** What each pending hold loses of its reservation (lot_holds.cut). */
  cuts: Reservation[]
}

/**
 * A debit the program's policy lets go below the floor (a clawback) may need more than the free
 * points: it takes the free parts first (lots of `preferred` first, then soonest-expiring), then
 * the held parts, soonest-expiring first, cutting the newest hold's reservation first. The lots
 * then still add up to the balance; the holds cut are backed by less than their amount.
 */
export function takeIntoHolds(lots: (LotState & { preferred: boolean })[], reservations: Reservation[], points: bigint): OverdraftTakes {
  const ordered = [...lots].sort((a, b) => Number(b.preferred) - Number(a.preferred) || soonestFirst(a, b))
  const free = takeInOrder(
    ordered.map((l) => ({ lotId: l.id, points: freeOf(l) })),
    points,
  )
  const heldPieces = [...lots].sort(soonestFirst).map((l) => ({ lotId: l.id, points: l.held }))
  const held = takeInOrder(heldPieces, points - sum(free))
  const takes = lots
    .map((l) => {
      const fromHeld = sum(held.filter((s) => s.lotId === l.id))
      return { lotId: l.id, points: sum(free.filter((s) => s.lotId === l.id)) + fromHeld, held: fromHeld }
    })
    .filter((t) => t.points > 0n)
  const cuts = held.flatMap((share) => {
    const newestFirst = reservations.filter((r) => r.lotId === share.lotId).sort((a, b) => (a.holdId < b.holdId ? 1 : -1))
    return takeInOrder(newestFirst, share.points)
  })
  return { takes, cuts }
}
