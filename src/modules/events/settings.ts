// The notification rules are part of a program's rules and live in programs/notification-rules.ts.
// This re-export only spares receipts/statement.ts, rewritten elsewhere right now, an import
// change; delete it once that file imports the type from programs.
export type { NotificationRules } from '../programs/notification-rules.js'
