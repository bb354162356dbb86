import { AppError } from '../../shared/errors.js'

/**
 * What a replay of POST /v1/programs/{programId}/clients answers. The client secret is shown once
 * and only its hash is kept (secrets are never stored in plaintext, not even in the idempotency
 * record), so a replay cannot answer the original body. It answers 409 with the id of the client
 * the key created rather than a 201 without a secret: a 201 would read as success and leave a
 * caller holding a client it cannot use, while this tells it exactly what happened and what to
 * do (revoke that client if its secret was lost, and create another with a new key).
 */
export const clientSecretNotReplayed = (clientId: string) =>
  new AppError(
    409,
    'CLIENT_SECRET_NOT_REPLAYED',
    'Client already created',
    `This Idempotency-Key already created client ${clientId}; its secret was shown once and is not stored. If that answer was lost, revoke the client (DELETE /v1/programs/{programId}/clients/${clientId}) and create another with a new Idempotency-Key`,
    { clientId },
  )
