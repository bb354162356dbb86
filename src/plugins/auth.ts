import fp from 'fastify-plugin'
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { Scope } from '../shared/scopes.js'
import { verifyAccessToken } from '../modules/auth/tokens.js'
import { findActiveClientWithProgram } from '../modules/programs/repository.js'
import type { ProgramRow } from '../modules/programs/tables.js'
import { AppError, forbidden, unauthorized } from '../shared/errors.js'
import { securityFor } from './openapi.js'

export interface Principal {
  clientId: string
  scopes: ReadonlySet<string>
  admin: boolean
  /** The program a program client belongs to; null for the platform admin. */
  program: ProgramRow | null
}

/**
 * How long a client's status and its program stay remembered. The instance that revokes a client
 * or changes a program forgets them at once; other instances within this time.
 */
export const CLIENT_CACHE_MS = 2000

const REQUIRED_SCOPES = Symbol('requiredScopes')

declare module 'fastify' {
  interface FastifyInstance {
    /** A preHandler admitting a valid token that holds at least one of `scopes`. */
    authorize(scopes: readonly Scope[]): preHandlerAsyncHookHandler
    /** Forget cached clients of a program (after a revocation or a program change). */
    forgetProgramClients(programId: string): void
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

    // The client/program lookup was one of the ~10 round trips of a purchase.
    const clients = new Map<string, { found: Awaited<ReturnType<typeof findActiveClientWithProgram>>; at: number }>()
    const lookupClient = async (clientId: string) => {
      const cached = clients.get(clientId)
      if (cached && Date.now() - cached.at < CLIENT_CACHE_MS) return cached.found
      const found = await findActiveClientWithProgram(app.db.db, clientId)
      if (clients.size > 10_000) clients.clear()
      clients.set(clientId, { found, at: Date.now() })
      return found
    }
    app.decorate('forgetProgramClients', (programId: string) => {
      for (const [id, entry] of clients) if (!entry.found || entry.found.program.id === programId) clients.delete(id)
    })

    async function authenticate(request: FastifyRequest): Promise<Principal> {
      const header = request.headers.authorization
      const match = header?.match(/^Bearer ([A-Za-z0-9._~+/-]+=*)$/)
      if (!match) throw unauthorized('Send an access token as "Authorization: Bearer <token>"; get one from POST /v1/oauth/token')
      const claims = await verifyAccessToken(app.keys, app.config.tokens, match[1]!)
      if (!claims.programId) {
        if (claims.clientId !== app.config.admin.clientId || !claims.scopes.includes('admin')) throw unauthorized('The access token is not valid')
        return { clientId: claims.clientId, scopes: new Set(['admin']), admin: true, program: null }
      }
      const found = await lookupClient(claims.clientId)
      // A revoked client's tokens stop working at once, as does a token naming another program.
      if (!found || found.program.id !== claims.programId) throw unauthorized('The access token is not valid')
      const granted = new Set(found.client.scopes)
      return { clientId: claims.clientId, scopes: new Set(claims.scopes.filter((s) => granted.has(s))), admin: false, program: found.program }
    }

    // The OpenAPI document names the scopes each operation accepts (any one of them), so clients
    // and the isolation tests read the policy from the document instead of from a copy of it.
    app.addHook('onRoute', (route) => {
      const scopes = [route.preHandler].flat().map((h) => (h as { [REQUIRED_SCOPES]?: readonly Scope[] } | undefined)?.[REQUIRED_SCOPES]).find(Boolean)
      if (scopes && route.schema?.security) route.schema.security = securityFor(scopes)
    })

    app.decorate('authorize', (scopes: readonly Scope[]) => {
      const handler: preHandlerAsyncHookHandler & { [REQUIRED_SCOPES]?: readonly Scope[] } = async (request, reply) => {
        const principal = await authenticate(request).catch((err: unknown) => {
          if (err instanceof AppError && err.status === 401) reply.header('www-authenticate', 'Bearer realm="loyalty-ledger"')
          throw err
        })
        request.principal = principal
        if (!scopes.some((s) => principal.scopes.has(s))) {
          throw new AppError(403, 'FORBIDDEN', 'Forbidden', `This endpoint needs one of the scopes: ${scopes.join(', ')}`, { requiredScopes: scopes })
        }
      }
      handler[REQUIRED_SCOPES] = scopes
      return handler
    })
  },
  { name: 'auth', dependencies: ['db'] },
)
