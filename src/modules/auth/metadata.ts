// RFC 8414 authorization server metadata: what an OAuth client library discovers before asking
// for a token. The issuer is the same value the tokens carry as `iss` (TOKEN_ISSUER, by default
// PUBLIC_BASE_URL), so a client that checks both sees one authority.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { SCOPES } from '../../shared/scopes.js'

export const authorizationServerMetadataSchema = z
  .object({
    issuer: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    grant_types_supported: z.array(z.string()),
    token_endpoint_auth_methods_supported: z.array(z.string()),
    scopes_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    service_documentation: z.string(),
  })
  .meta({ id: 'AuthorizationServerMetadata', description: 'RFC 8414 authorization server metadata' })

export type AuthorizationServerMetadata = z.infer<typeof authorizationServerMetadataSchema>

/**
 * The metadata document, pure. `response_types_supported` is required by RFC 8414 yet only means
 * something for the authorization endpoint, which this server does not have: it is empty.
 */
export function authorizationServerMetadata(issuer: string, publicBaseUrl: string): AuthorizationServerMetadata {
  return {
    issuer,
    token_endpoint: `${publicBaseUrl}/v1/oauth/token`,
    jwks_uri: `${publicBaseUrl}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: [...SCOPES],
    response_types_supported: [],
    service_documentation: `${publicBaseUrl}/docs`,
  }
}

const metadataRoutes: FastifyPluginAsyncZod = async (app) => {
  const document = authorizationServerMetadata(app.config.tokens.issuer, app.config.publicBaseUrl)
  app.get('/.well-known/oauth-authorization-server', {
    schema: {
      operationId: 'getAuthorizationServerMetadata',
      tags: ['auth'],
      summary: 'OAuth 2.0 authorization server metadata (RFC 8414)',
      description:
        'Public, no authentication. The issuer equals the `iss` claim of access tokens; the token endpoint takes the client-credentials grant with ' +
        'HTTP Basic (client_secret_basic) or body (client_secret_post) client authentication. OAuth client libraries discover the token endpoint here.',
      response: { 200: authorizationServerMetadataSchema },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300')
      return document
    },
  })
}

export default metadataRoutes
