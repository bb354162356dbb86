/**
 * Runs `visit` for every item with at most `limit` running at once, in item order as slots free up:
 * a job hands the write executor many members' plans together (they share its groups) without
 * queueing one promise per member. The first failure stops new visits; those running finish, then
 * it is thrown.
 */
export async function forEachInFlight<T>(items: readonly T[], limit: number, visit: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: { err: unknown } | undefined
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++]!
      try {
        await visit(item)
      } catch (err) {
        failure ??= { err }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  if (failure) throw failure.err
}
