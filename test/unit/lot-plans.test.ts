// Which lots a points hold reserves, what its capture takes, what an expiry may take, and how a
// debit allowed into an overdraft eats into held points (issue 14: held points were expired).
import t from 'tap'
import { dueShares, reserveLots, takeIntoHolds, takeReserved, type LotState, type ReleasedLot } from '../../src/modules/ledger/lot-plans.js'

const day = (d: number) => new Date(Date.UTC(2026, 0, d))
const lot = (id: string, expires: number | null, remaining: bigint, held = 0n): LotState => ({ id, expiresAt: expires === null ? null : day(expires), remaining, held })
const released = (l: LotState, reserved: bigint): ReleasedLot => ({ ...l, memberId: 'm', reserved })

t.test('a hold reserves the free points of the soonest-expiring lots first, never-expiring last', async (t) => {
  const lots = [lot('never', null, 100n), lot('later', 20, 100n), lot('sooner', 10, 50n, 30n)]
  t.same(reserveLots(lots, 40n), [
    { lotId: 'sooner', points: 20n },
    { lotId: 'later', points: 20n },
  ], '20 free of the sooner lot (30 already held), then the later lot')
  t.same(reserveLots(lots, 300n), [
    { lotId: 'sooner', points: 20n },
    { lotId: 'later', points: 100n },
    { lotId: 'never', points: 100n },
  ], 'lots holding less than asked: it reserves what is free')
  t.same(reserveLots([lot('b', 10, 5n), lot('a', 10, 5n)], 7n), [
    { lotId: 'a', points: 5n },
    { lotId: 'b', points: 2n },
  ], 'same expiry: by id')
})

t.test('a capture takes what its hold reserved, the soonest-expiring part when it captures less', async (t) => {
  const lots = [released(lot('later', 20, 100n), 30n), released(lot('sooner', 10, 50n), 10n)]
  t.same(takeReserved(lots, 40n), [
    { lotId: 'sooner', points: 10n },
    { lotId: 'later', points: 30n },
  ], 'a full capture takes exactly the reservation')
  t.same(takeReserved(lots, 15n), [
    { lotId: 'sooner', points: 10n },
    { lotId: 'later', points: 5n },
  ], 'a partial capture: the rest goes back')
  t.same(takeReserved(lots, 0n), [], 'nothing captured, nothing taken')
})

t.test('an expiry takes the free part of the lots due by its date, held parts and later lots stay', async (t) => {
  const lots = [lot('due', 10, 50n, 40n), lot('due-free', 9, 30n), lot('later', 20, 100n), lot('never', null, 5n)]
  t.same(dueShares(lots, day(10)), [
    { lotId: 'due-free', points: 30n },
    { lotId: 'due', points: 10n },
  ], 'due at the instant it expires; 40 of the due lot are held')
  t.same(dueShares(lots, day(8)), [], 'nothing due yet')
  t.same(dueShares([lot('due', 10, 50n)], day(11), { taken: [{ lotId: 'due', points: 20n }] }), [{ lotId: 'due', points: 30n }], 'after what a capture took in the same transaction')
  t.same(dueShares(lots, day(10), { limit: 35n }), [
    { lotId: 'due-free', points: 30n },
    { lotId: 'due', points: 5n },
  ], 'never more than the wallet has available')
  t.same(dueShares([lot('held', 10, 40n, 40n)], day(11)), [], 'a lot held in full expires nothing')
})

t.test('a debit allowed into an overdraft takes free points first, then held ones, cutting the newest hold first', async (t) => {
  const lots = [
    { ...lot('sooner', 10, 50n, 50n), preferred: false },
    { ...lot('later', 20, 100n, 20n), preferred: false },
    { ...lot('own', 30, 10n), preferred: true },
  ]
  const reservations = [
    { holdId: 'h1', lotId: 'sooner', points: 30n },
    { holdId: 'h2', lotId: 'sooner', points: 20n },
    { holdId: 'h2', lotId: 'later', points: 20n },
  ]
  t.same(takeIntoHolds(lots, reservations, 50n), { takes: [{ lotId: 'later', points: 40n, held: 0n }, { lotId: 'own', points: 10n, held: 0n }], cuts: [] }, 'covered by free points: the preferred lot first, no hold cut')
  const deep = takeIntoHolds(lots, reservations, 115n)
  t.same(deep.takes, [
    { lotId: 'sooner', points: 25n, held: 25n },
    { lotId: 'later', points: 80n, held: 0n },
    { lotId: 'own', points: 10n, held: 0n },
  ], '90 free, then 25 held of the soonest-expiring lot')
  t.same(deep.cuts, [
    { holdId: 'h2', lotId: 'sooner', points: 20n },
    { holdId: 'h1', lotId: 'sooner', points: 5n },
  ], 'the newest hold loses its reservation first')
})
