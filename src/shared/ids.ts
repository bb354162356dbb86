import { v7 as uuidv7 } from 'uuid'

/** Time-ordered ids: new rows land at the right edge of the index and sort by creation. */
export function newId(): string {
  return uuidv7()
}
