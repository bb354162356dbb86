import { AppError } from '../../shared/errors.js'
import { PIN_MAX_FAILURES } from './pin-policy.js'

export const giftCardErrors = {
  notFound: () => new AppError(404, 'GIFT_CARD_NOT_FOUND', 'Gift card not found', 'No gift card of this program has this code or id'),
  pinRequired: () => new AppError(422, 'GIFT_CARD_PIN_REQUIRED', 'Gift card PIN required', 'This gift card has a PIN: send it with the code'),
  pinIncorrect: (attemptsLeft: number) =>
    new AppError(422, 'GIFT_CARD_PIN_INCORRECT', 'Gift card PIN incorrect', `The PIN is wrong; ${attemptsLeft} attempt(s) left before the card's PIN checks lock`, { attemptsLeft, maxFailures: PIN_MAX_FAILURES }),
  locked: (retryAfterSeconds: number) =>
    new AppError(423, 'GIFT_CARD_LOCKED', 'Gift card locked', `Too many wrong PINs: this card's PIN checks are locked for ${retryAfterSeconds} more second(s)`, { retryAfterSeconds }),
  insufficientBalance: (codeLast4: string, available: string, asked: string) =>
    new AppError(422, 'GIFT_CARD_INSUFFICIENT_BALANCE', 'Gift card balance too low', `The gift card …${codeLast4} holds ${available}, less than the ${asked} asked`, { codeLast4, available, asked }),
  alreadyAttached: (memberId: string) =>
    new AppError(409, 'GIFT_CARD_ALREADY_ATTACHED', 'Gift card attached to another member', 'This gift card is attached to another member; a card is attached once', { memberId }),
  blocked: () => new AppError(409, 'GIFT_CARD_BLOCKED', 'Gift card blocked', 'This gift card is blocked (reported lost or stolen, say): it cannot pay, be loaded or be checked until the program unblocks it'),
  notHoldable: () => new AppError(422, 'GIFT_CARD_NOT_HOLDABLE', 'Gift cards pay captured sales only', 'A held sale (capture: false) cannot be paid with a gift card; post it captured'),
  memberNotFound: () => new AppError(404, 'MEMBER_NOT_FOUND', 'Member not found', 'No member of this program has this id'),
  memberErased: () => new AppError(409, 'MEMBER_ERASED', 'Member erased', 'This member’s personal data was erased; no gift card is attached to it'),
}
