// Every table of the service, for drizzle-kit and for typed queries.
export * from '../modules/programs/tables.js'
export * from '../modules/members/tables.js'
export * from '../modules/ledger/tables.js'
export * from '../modules/purchases/tables.js'
export * from '../modules/receipts/tables.js'
export * from '../modules/events/tables.js'
export * from '../modules/surveys/tables.js'
export * from "../modules/jobs/tables.js"
export * from "../modules/birthdays/tables.js"
export * from "../modules/tiers/tables.js"
export * from "../modules/coupons/tables.js"
export * from "../modules/referrals/tables.js"
export * from "../modules/rewards/tables.js"
export * from "../modules/imports/tables.js"
export * from "../modules/saved-segments/tables.js"
export * from "../modules/segment-campaigns/tables.js"
export * from "../modules/gift-cards/tables.js"
