import { AppError } from '../../shared/errors.js'

export const segmentErrors = {
  notFound: () => new AppError(404, 'SEGMENT_NOT_FOUND', 'Segment not found', 'No saved segment of this program has this id'),
  archived: () => new AppError(409, 'SEGMENT_ARCHIVED', 'Segment archived', 'The segment is archived; it takes no new campaign'),
}
