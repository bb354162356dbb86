import fp from 'fastify-plugin'
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Scope } from '../modules/auth/scopes.js'
import { verifyAccessToken } from '../modules/auth/tokens.js'
import { findActiveClientWithProgram } from '../modules/programs/repository.js'
import type { ProgramRow } from '../modules/programs/tables.js'
import { AppError, forbidden, unauthorized } from '../shared/errors.js'

export interface Principal {
  clientId: string
  scopes: ReadonlySet<string>
  admin: boolean
  /** The program a program client belongs to; null for the platform admin. */
  program: ProgramRow | null
}

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler admitting a valid token that holds at least one of `scopes`. */
    authorize(scopes: readonly Scope[]): preHandlerAsyncHookHandler
  }
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** The program of the calling client: every program-scoped route reads its data through this. */
export function programOf(request: FastifyRequest): ProgramRow {
  const program = request.principal?.program
  if (!program) throw forbidden('This endpoint acts on the program of the calling client; the platform admin has none. Use a client of the program.')
  return program
}

export function hasScope(request: FastifyRequest, scope: Scope): boolean {
  return request.principal?.scopes.has(scope) ?? false
}

export default fp(
  async (app) => {
    app.decorateRequest('principal', null)

    async function authenticate(request: FastifyRequest): Promise<Principal> {
      const header = request.headers.authorization
      const match = header?.match(/^Bearer ([A-Za-z0-9._~+/-]+=*)$/)
      if (!match) throw unauthorized('Send an access token as "Authorization: Bearer <token>"; get one from POST /v1/oauth/token')
      const claims = await verifyAccessToken(app.keys, app.config.tokens, match[1]!)
      if (!claims.programId) {
        if (claims.clientId !== app.config.admin.clientId || !claims.scopes.includes('admin')) throw unauthorized('The access token is not valid')
        return { clientId: claims.clientId, scopes: new Set(['admin']), admin: true, program: null }
      }
      const found = await findActiveClientWithProgram(app.db.db, claims.clientId)
      // A revoked client's tokens stop working at once, as does a token naming another program.
      if (!found || found.program.id !== claims.programId) throw unauthorized('The access token is not valid')
      const granted = new Set(found.client.scopes)
      return { clientId: claims.clientId, scopes: new Set(claims.scopes.filter((s) => granted.has(s))), admin: false, program: found.program }
    }

    app.decorate('authorize', (scopes: readonly Scope[]) => {
      const handler: preHandlerAsyncHookHandler = async (request, reply) => {
        const principal = await authenticate(request).catch((err: unknown) => {
          if (err instanceof AppError && err.status === 401) reply.header('www-authenticate', 'Bearer realm="loyalty-ledger"')
          throw err
        })
        request.principal = principal
        if (!scopes.some((s) => principal.scopes.has(s))) {
          throw new AppError(403, 'FORBIDDEN', 'Forbidden', `This endpoint needs one of the scopes: ${scopes.join(', ')}`, { requiredScopes: scopes })
        }
      }
      return handler
    })
  },
  { name: 'auth', dependencies: ['db'] },
)
