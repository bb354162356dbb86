// Every table of the service, for drizzle-kit and for typed queries.
export * from '../modules/programs/tables.js'
export * from '../modules/members/tables.js'
export * from '../modules/ledger/tables.js'
export * from '../modules/purchases/tables.js'
