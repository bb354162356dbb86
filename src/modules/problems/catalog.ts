// Every stable problem `code` the service answers, with its statuses, title and what a developer
// does about it. AppError's code is typed by it, and test/unit/problem-catalog.test.ts scans src/
// for every code thrown or sent: a code missing here, or an entry no code uses, fails the suite.
// GET /problems/{slug} serves these entries at each problem's `type` URI.

export interface ProblemEntry {
  /** The HTTP statuses this code is answered with (most one). */
  status: readonly number[]
  title: string
  /** What went wrong. */
  meaning: string
  /** What the caller should do. */
  action: string
}

const entry = (status: number | readonly number[], title: string, meaning: string, action: string): ProblemEntry => ({
  status: typeof status === 'number' ? [status] : status,
  title,
  meaning,
  action,
})

export const PROBLEMS = {
  // Request shape and transport
  VALIDATION_FAILED: entry(400, 'Request validation failed', 'A field of the body, query, path or headers breaks the schema; `errors` lists each as `path` and `message`.', 'Fix the fields listed in `errors` and send again.'),
  MALFORMED_BODY: entry(400, 'Malformed body', 'The body is empty or not valid JSON although a JSON content type was sent.', 'Send a well-formed JSON document.'),
  MALFORMED_REQUEST: entry(400, 'Malformed request', 'The HTTP request could not be parsed: a bad URL, a wrong Content-Length, or a control character in the request line or a header.', 'Fix the HTTP client or proxy that produced the request.'),
  BAD_REQUEST: entry(400, 'Bad request', 'The request was refused by the HTTP layer for a reason without a more specific code; `detail` says which.', 'Read `detail`, fix the request and send again.'),
  PAYLOAD_TOO_LARGE: entry(413, 'Payload too large', 'The body is larger than the limit of this route (BODY_LIMIT_BYTES; the purchase batch has its own).', 'Send less per request, for example a smaller batch.'),
  UNSUPPORTED_MEDIA_TYPE: entry(415, 'Unsupported media type', 'The Content-Type is missing or not one the route accepts.', 'Send `Content-Type: application/json` (the token endpoint also takes form bodies).'),
  URI_TOO_LONG: entry(414, 'URI too long', 'A path parameter is longer than the server reads.', 'Use identifiers as the API returned them.'),
  HEADERS_TOO_LARGE: entry(431, 'Request headers too large', 'The request line and headers exceed the 16 kB the server reads.', 'Send fewer or shorter headers (large cookies are the usual cause).'),
  REQUEST_TIMEOUT: entry(408, 'Request timeout', 'The request was not received completely in time.', 'Check the network and send again.'),
  NOT_ACCEPTABLE: entry(406, 'Not acceptable', 'The Accept header names no representation this resource has; `offered` lists them.', 'Ask for one of the media types in `offered`.'),
  NOT_FOUND: entry(404, 'Not found', 'No such route, or no such resource in your program (resources of other programs are not found either).', 'Check the path and the identifier, and that the token belongs to the right program.'),

  // Authentication and limits
  UNAUTHORIZED: entry(401, 'Unauthorized', 'No bearer token, or the token is expired, malformed, signed by an unknown key or its client was revoked.', 'Obtain a new token at POST /v1/oauth/token and send it as `Authorization: Bearer <token>`.'),
  FORBIDDEN: entry(403, 'Forbidden', 'The token is valid but lacks a scope this operation needs (`requiredScopes`), or the resource is outside its program.', 'Request a token with one of the required scopes, from a client that holds them.'),
  RATE_LIMITED: entry(429, 'Too many requests', 'The client sent more requests this minute than allowed; `retryAfterSeconds` and `Retry-After` say when the window ends.', 'Wait `Retry-After` seconds, then retry; spread requests over time.'),

  // Service side
  RETRY_LATER: entry(503, 'Transient conflict', 'The request collided with a concurrent one on the same records; nothing was written.', 'Retry the same request with the same Idempotency-Key after `Retry-After`.'),
  SERVICE_UNAVAILABLE: entry(503, 'Service unavailable', 'The database is unavailable, a transaction did not finish in time, or the instance is starting or draining; nothing was committed.', 'Retry after `Retry-After` with the same Idempotency-Key.'),
  INTERNAL_ERROR: entry(500, 'Internal error', 'An unexpected error; it was logged with the request id.', 'Retry with the same Idempotency-Key; if it persists, report the `requestId`.'),
  NOT_ATTEMPTED: entry(503, 'Not attempted', 'An earlier sale of the batch failed on the service side, so this sale was not attempted.', 'Retry the whole batch with the same keys: sales already posted are replayed.'),
  JOB_FAILED: entry(500, 'Job failed', 'The job run failed; the run is recorded with its error.', 'Run the job again to retry; read the run record for the cause.'),

  // Idempotency and conflicts
  CONFLICT: entry(409, 'Conflict', 'The write collides with the current state: a unique value already taken, or a state that forbids the change; `detail` says which.', 'Read the resource, reconcile, and send a request that fits its current state.'),
  IDEMPOTENCY_KEY_REUSED: entry(422, 'Idempotency key reused', 'This Idempotency-Key was already used with a different request.', 'Use a new key for a new request; reuse a key only to retry the identical request.'),
  CLIENT_SECRET_NOT_REPLAYED: entry(409, 'Client already created', 'This Idempotency-Key already created an API client; its secret was shown once and is kept only hashed, so a replay cannot show it again. `clientId` names the client.', 'If the first answer was lost, revoke that client and create another with a new Idempotency-Key.'),
  IDEMPOTENCY_CONFLICT: entry(409, 'Request in progress', 'A request with this Idempotency-Key is still being processed, or did not finish.', 'Retry after a moment with the same key to get its answer.'),

  // Members and referrals
  MEMBER_NOT_FOUND: entry(404, 'Member not found', 'No member with this id, phone or card in your program.', 'Check the identifier, or create the member first.'),
  MEMBER_ERASED: entry(409, 'Member erased', 'The member’s personal data was erased; the record takes no new purchases, top-ups, answers or changes.', 'Do not write to an erased member; enrol the person again if they return.'),
  REFERRAL_CODE_NOT_FOUND: entry(422, 'Referral code not found', 'No member of this program has this referral code.', 'Check the code the customer gave.'),
  SELF_REFERRAL: entry(422, 'Self referral', 'A member cannot refer themselves.', 'Name another member as referrer.'),
  REFERRAL_LOOP: entry(422, 'Referral loop', 'The referrer was, directly or not, referred by this member.', 'Name a referrer outside this member’s referral chain.'),
  ALREADY_REFERRED: entry(409, 'Already referred', 'This member already has a referrer.', 'Nothing to do: a referrer is named once.'),
  REFERRAL_TOO_LATE: entry(409, 'Too late to name a referrer', 'The member has already made a purchase; a referrer can only be named before the first one.', 'Name referrers at enrolment.'),

  // Member imports
  IMPORT_TOO_LARGE: entry(413, 'Import too large', 'The file is larger than 200 MB or has more than 1,000,000 rows. When the limit was met while reading, the rows before it were imported: `importId` and `rowsRead` say which.', 'Split the file and send the rest under a new Idempotency-Key (a new key leaves members already imported unchanged).'),
  IMPORT_MALFORMED: entry(400, 'Import file unreadable', 'The file cannot be read on: it is not UTF-8, or a record is longer than 64 KiB (usually a quote never closed). Rows before that point were imported (`importId`, `rowsRead`).', 'Fix the file from the line `detail` names and send it again under a new Idempotency-Key.'),

  // Purchases and returns
  CURRENCY_MISMATCH: entry(422, 'Wrong currency', 'The purchase is in another currency than the program; `expected` names the program’s.', 'Send the purchase in the program currency.'),
  OCCURRED_AT_IN_FUTURE: entry(422, 'Sale in the future', '`occurredAt` is later than now (beyond a small clock tolerance).', 'Check the POS clock and send the real time of sale.'),
  OCCURRED_AT_TOO_OLD: entry(422, 'Sale too old', 'The sale is older than the program’s offline window (`rules.offlineWindowHours`).', 'Post offline sales sooner, or widen the program’s offline window.'),
  DUPLICATE_PURCHASE: entry(409, 'Duplicate receipt number', 'The store already posted a purchase with this `externalId` under another Idempotency-Key.', 'Retry with the original Idempotency-Key to get the original answer; give new sales new receipt numbers.'),
  LINE_DISCOUNT_TOO_LARGE: entry(422, 'Line discount too large', 'A line’s discount exceeds its price; `line` names it.', 'Fix the discount of that line.'),
  TENDERS_DO_NOT_MATCH_TOTAL: entry(422, 'Tenders do not match the total', 'The tenders do not add up to the purchase total.', 'Send tenders that sum to the total in minor units.'),
  POINTS_NOT_REDEEMABLE: entry(422, 'Points cannot pay', 'The program has no point value, so points cannot be a tender.', 'Pay by other tenders, or set the program’s point value.'),
  REDEMPTION_BELOW_MINIMUM: entry(422, 'Too few points', 'Fewer points than the program’s minimum redemption (`minPoints`).', 'Redeem at least `minPoints`, or none.'),
  REDEMPTION_ABOVE_MAXIMUM: entry(422, 'Too many points', 'More points than may be redeemed on one purchase (`maxPoints`).', 'Redeem at most `maxPoints`.'),
  INSUFFICIENT_FUNDS: entry(422, 'Insufficient funds', 'The member’s available points or stored value (`asset`) do not cover the amount.', 'Read the balances and ask for less, or take another tender.'),
  PURCHASE_NOT_PENDING: entry(409, 'Not pending', 'Only a pending (authorised) purchase can be captured or voided.', 'Read the purchase: it is already captured, voided or completed; use a return for a completed one.'),
  PURCHASE_NOT_COMPLETED: entry(409, 'Not completed', 'Only a completed purchase takes returns.', 'Capture a pending purchase first, or void it instead.'),
  HOLD_EXPIRED: entry(409, 'Hold expired', 'The authorisation expired before capture.', 'Post a new purchase.'),
  HOLD_ALREADY_RESOLVED: entry(409, 'Hold already resolved', 'The hold was already captured, voided or expired (`holdStatus`).', 'Read the purchase for its final state.'),
  CAPTURE_EXCEEDS_AUTHORISED: entry(422, 'Bad capture amount', 'The capture amount is not between 0 and the authorised total.', 'Capture at most the authorised amount.'),
  RETURN_LINE_NOT_IN_PURCHASE: entry(422, 'Not in the purchase', 'A returned line is not part of the purchase (`line`).', 'Return only lines of the original purchase.'),
  RETURN_EXCEEDS_PURCHASE: entry(422, 'More than was bought', 'The return is larger than what remains returnable.', 'Return at most what was bought less what was already returned.'),
  RETURN_MODE_MISMATCH: entry(422, 'Return the same way', 'The purchase was already returned by lines or by amount; returns must keep that mode.', 'Send the return in the mode the purchase already uses.'),

  // Ledger
  ALREADY_REVERSED: entry(409, 'Already reversed', 'This entry has already been reversed.', 'Nothing to do; read the entry’s reversal.'),
  CANNOT_REVERSE_REVERSAL: entry(409, 'Cannot reverse a reversal', 'This entry is itself a reversal.', 'Post a new entry instead.'),
  CANNOT_REVERSE_REWARD_REDEMPTION: entry(409, 'Cannot reverse a reward redemption', 'The entry paid for a reward; a reversal would leave its coupon usable and its stock taken.', 'Cancel the redemption: POST /v1/members/{memberId}/rewards/redemptions/{redemptionId}/cancellation.'),

  // Coupons and campaigns
  COUPON_NOT_FOUND: entry([422, 404], 'Coupon not found', 'No coupon with this code in the program (`couponCode`): 422 when a purchase names it, 404 when it is read by code.', 'Check the code the customer gave.'),
  COUPON_NOT_ACTIVE: entry(422, 'Coupon not active', 'The coupon’s campaign is not running now (`reason`).', 'Use the coupon while its campaign runs.'),
  COUPON_NOT_FOR_MEMBER: entry(422, 'Coupon issued to another member', 'The coupon belongs to another member.', 'Use it only on its member’s purchases.'),
  COUPON_DUPLICATE: entry(422, 'Coupon used twice', 'The purchase repeats a coupon code or a campaign.', 'Send each coupon and campaign once per purchase.'),
  COUPON_MIN_SPEND_NOT_MET: entry(422, 'Minimum spend not met', 'The purchase before coupons is below the coupon’s minimum spend (`minSpend`).', 'Apply the coupon to a larger purchase.'),
  COUPON_BUDGET_EXHAUSTED: entry(409, 'Coupon budget exhausted', 'The campaign has not enough budget left for this discount.', 'Raise the campaign budget or sell without the coupon.'),
  COUPON_USED_UP: entry(409, 'Coupon used up', 'The coupon was used as often as it may be.', 'Sell without it.'),
  COUPON_MEMBER_LIMIT_REACHED: entry(409, 'Coupon limit per member reached', 'The member used the campaign as often as it allows.', 'Sell without it.'),
  COUPON_CODE_TAKEN: entry(409, 'Code taken', 'The code is already a coupon of this program.', 'Choose another code.'),
  CAMPAIGN_NOT_FOUND: entry(404, 'Campaign not found', 'No such campaign in your program.', 'Check the campaign id.'),
  CAMPAIGN_ENDED: entry(409, 'Campaign ended', 'The campaign has ended; it issues no more codes.', 'Create a new campaign.'),
  CAMPAIGN_ARCHIVED: entry(409, 'Campaign archived', 'The campaign is archived and cannot change.', 'Create a new campaign.'),
  CAMPAIGN_SHARED_CODE: entry(409, 'Campaign uses one shared code', 'Codes are generated only for campaigns with codeMode "unique".', 'Use the campaign’s shared code, or create a unique-code campaign.'),

  // Webhooks
  WEBHOOK_DELIVERY_PENDING: entry(409, 'Delivery still pending', 'The delivery has not finished: an attempt is running or its next retry is scheduled (`nextAttemptAt` in the delivery log), so it cannot be redelivered.', 'Wait for it to succeed or fail (GET /v1/webhooks/{webhookId}/deliveries), then redeliver it if it failed.'),
  WEBHOOK_DISABLED: entry(409, 'Webhook endpoint disabled', 'The endpoint is disabled (`enabled: false`) or deleted, so nothing is sent to it, redeliveries included; `detail` says which.', 'Enable it with PATCH /v1/webhooks/{webhookId} and send again; a deleted endpoint cannot be: register a new one.'),

  // Rewards for points
  REWARD_NOT_FOUND: entry(404, 'Reward not found', 'No such reward in your program.', 'Check the reward id (GET /v1/rewards).'),
  REWARD_NOT_AVAILABLE: entry(409, 'Reward not available', 'The reward cannot be redeemed now (`reason`: inactive, not_started, ended, or its coupon campaign campaign_archived or campaign_ended).', 'Offer another reward, or redeem it while it runs.'),
  REWARD_OUT_OF_STOCK: entry(409, 'Reward out of stock', 'No unit of the reward is left.', 'Offer another reward, or raise its stock (PATCH /v1/rewards/{rewardId}).'),
  REWARD_LIMIT_REACHED: entry(409, 'Reward limit per member reached', 'The member holds the reward as often as it allows (`maxPerMember`); a cancelled redemption does not count.', 'Offer another reward.'),
  REWARD_CAMPAIGN_UNUSABLE: entry(422, 'Campaign cannot issue the reward’s coupons', 'A reward gives a coupon of an active campaign with codeMode "unique" (a code of its own for each member); this campaign is not (`reason`: shared, archived or ended).', 'Create the reward with an active unique-code campaign.'),
  REWARD_REDEMPTION_NOT_FOUND: entry(404, 'Reward redemption not found', 'No such redemption of this member in your program.', 'Check the redemption id (GET /v1/members/{memberId}/rewards/redemptions).'),
  REWARD_ALREADY_USED: entry(409, 'Reward already used', 'The coupon the reward issued was used by a purchase; the redemption can no longer be cancelled.', 'Return the purchase first if the coupon should come back, or leave the redemption.'),
  REWARD_ALREADY_CANCELLED: entry(409, 'Reward already cancelled', 'The redemption was already cancelled and its points given back.', 'Nothing to do; read the redemption.'),

  // Saved segments and segment campaigns
  SEGMENT_FILTER_INVALID: entry(400, 'Segment filter invalid', 'The filter is well-formed but cannot be applied: a range whose min is above its max or with neither, a tier code the program’s rules do not have, an amount not valid in the program currency; `errors` lists each.', 'Fix the criteria listed in `errors` and send again.'),
  SEGMENT_NOT_FOUND: entry(404, 'Segment not found', 'No such saved segment in your program.', 'Check the segment id (GET /v1/segments).'),
  SEGMENT_ARCHIVED: entry(409, 'Segment archived', 'The segment is archived; it takes no new campaign.', 'Create a new segment with the same filter.'),
  SEGMENT_CAMPAIGN_NOT_FOUND: entry(404, 'Segment campaign not found', 'No such segment campaign in your program.', 'Check the campaign id (GET /v1/segment-campaigns).'),

  // Gift cards
  GIFT_CARD_NOT_FOUND: entry(404, 'Gift card not found', 'No gift card of your program has this code or id (a code that cannot be one, wrong length or characters, is not found either).', 'Check the code printed on the card, or the id the API returned.'),
  GIFT_CARD_PIN_REQUIRED: entry(422, 'Gift card PIN required', 'The card has a PIN and none was sent; nothing was counted.', 'Ask the holder for the PIN and send it with the code.'),
  GIFT_CARD_PIN_INCORRECT: entry(422, 'Gift card PIN incorrect', 'The PIN is wrong; the failure was counted on the card (`attemptsLeft` before it locks, out of `maxFailures`).', 'Ask the holder for the right PIN; do not retry blindly: the card locks.'),
  GIFT_CARD_LOCKED: entry(423, 'Gift card locked', 'Too many wrong PINs in a row: the card takes no PIN check (balance or payment) for `retryAfterSeconds`.', 'Wait `retryAfterSeconds`, then try with the right PIN.'),
  GIFT_CARD_INSUFFICIENT_BALANCE: entry(422, 'Gift card balance too low', 'The gift card tender asks more than the card holds (`available`, `asked`, the card\'s `codeLast4`).', 'Ask for at most the available balance and pay the rest another way.'),
  GIFT_CARD_ALREADY_ATTACHED: entry(409, 'Gift card attached to another member', 'A gift card is attached to one member, once; this one is attached to `memberId`.', 'Leave it with that member.'),
  GIFT_CARD_BLOCKED: entry(409, 'Gift card blocked', 'The program blocked this gift card (reported lost or stolen, say): it cannot pay, be loaded or have its balance checked; its value stays on it.', 'Pay another way; the holder asks the program, which can unblock it (POST /v1/gift-cards/{id}/unblock).'),
  GIFT_CARD_NOT_HOLDABLE: entry(422, 'Gift cards pay captured sales only', 'A held sale (capture: false) was sent with a gift card tender.', 'Post the sale captured, or pay it another way.'),

  // Jobs and analytics
  JOB_NOT_FOUND: entry(404, 'Job not found', 'No job with this name.', 'Use a name from GET /v1/jobs.'),
  INVALID_AS_OF: entry(422, 'Invalid asOf', '`asOf` is not a date or instant the service reads.', 'Send an ISO 8601 date or instant with offset.'),
  AS_OF_IN_FUTURE: entry(422, 'asOf is in the future', 'A job cannot run ahead of time (`today`, `now` say where the program is).', 'Run it on the day, or use dryRun to see what it would do.'),
  AS_OF_BEFORE_PROGRAM: entry(422, 'asOf is before the program existed', 'The run date is before the program was created (`programCreatedOn`).', 'Use a date on or after the program’s creation.'),
  RANGE_TOO_LONG: entry(422, 'Range too long', 'The requested period spans more buckets than the report allows.', 'Ask for a shorter period or a coarser unit.'),
} as const satisfies Record<string, ProblemEntry>

export type ProblemCode = keyof typeof PROBLEMS

export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[]

/** `VALIDATION_FAILED` -> `validation-failed`: the last segment of the problem's `type` URI. */
export const slugOf = (code: string): string => code.toLowerCase().replace(/_/g, '-')

const BY_SLUG = new Map<string, ProblemCode>(PROBLEM_CODES.map((c) => [slugOf(c), c]))

export const codeOfSlug = (slug: string): ProblemCode | undefined => BY_SLUG.get(slug)
