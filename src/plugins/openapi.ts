import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { webhooksDocument } from '../modules/events/webhooks-document.js'

/** Route-level security requirement for the OpenAPI document. */
export const bearer = [{ bearerAuth: [] }]

export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Loyalty Ledger API',
          version: '0.1.0',
          description:
            'Loyalty points and stored value for retailers: members, a double-entry ledger, purchases and returns. ' +
            'Errors are RFC 9457 application/problem+json with a stable `code`. Amounts are decimal strings in major units.',
        },
        webhooks: webhooksDocument() as never,
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from POST /v1/oauth/token (client credentials)' },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'openapi' },
)
