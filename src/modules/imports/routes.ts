import type { FastifySchemaCompiler } from 'fastify'
import { validatorCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { programOf } from '../../plugins/auth.js'
import { bearer } from '../../plugins/openapi.js'
import { AppError, notFound } from '../../shared/errors.js'
import { decodeCursor, page } from '../../shared/pagination.js'
import { commonErrors, listOf, problemSchema } from '../../shared/schemas.js'
import { sendStored } from '../idempotency/reply.js'
import { idempotencyHeaderSchema } from '../idempotency/service.js'
import { findImport, listImportRows } from './repository.js'
import type { ImportFormat } from './rows.js'
import { importFileSchema, importParamsSchema, importRowSchema, importRowsQuerySchema, importSchema, IMPORT_MEDIA_TYPES } from './schemas.js'
import { importMembers } from './service.js'
import { importPath, importRowView, importView } from './views.js'

const tags = ['members']

const unsupported = () => new AppError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'Send the file as text/csv or application/x-ndjson, in UTF-8')

/** The file's format from its Content-Type; a charset other than UTF-8 is refused (the file is read as UTF-8). */
function formatOf(contentType: string | undefined): ImportFormat {
  const [type, ...params] = (contentType ?? '').split(';').map((p) => p.trim().toLowerCase())
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '')
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw unsupported()
  if (type === 'text/csv') return 'csv'
  if (type === 'application/x-ndjson') return 'ndjson'
  throw unsupported()
}

const isStream = (body: unknown): body is AsyncIterable<Uint8Array> => body !== null && typeof body === 'object' && Symbol.asyncIterator in body

/** The body is the upload's stream, read by the import itself: the string schema documents it, nothing validates it here. */
const streamedBodyCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, ...part }) => (part.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler({ ...part, schema }))

const importsRoutes: FastifyPluginAsyncZod = async (app) => {
  const db = app.db.db
  // Here only (this plugin is encapsulated): the body reaches the handler as a stream, unread and unbuffered.
  app.addContentTypeParser([...IMPORT_MEDIA_TYPES], (_request, payload, done) => done(null, payload))

  app.post('/v1/members/imports', {
    schema: {
      operationId: 'createMemberImport',
      description:
        'Imports existing customers from a streamed CSV or NDJSON file, 500 rows a write: each row is checked as an enrolment and creates a member (with its opening points and stored value, ' +
        'posted as `opening_balance` entries), updates the member it matches (by external id, else by phone) or is refused with its reason. Balances are opened only for members the import creates, ' +
        'so the same file imported again creates and posts nothing (its rows answer `unchanged`). Answers when the whole file is read. ' +
        'A broken-off upload is resumed by the same request with the same Idempotency-Key; a file past a limit or unreadable stops the import there (the rows before stay imported). ' +
        'No member.enrolled event is sent for imported members.',
      'x-problems': { 400: ['IMPORT_MALFORMED'], 413: ['IMPORT_TOO_LARGE'] },
      tags,
      summary: 'Import members from a CSV or NDJSON file',
      security: bearer,
      headers: idempotencyHeaderSchema,
      consumes: [...IMPORT_MEDIA_TYPES],
      body: importFileSchema,
      response: { 201: importSchema, ...commonErrors, 413: problemSchema, 415: problemSchema },
    },
    config: { bodyStreamed: true },
    validatorCompiler: streamedBodyCompiler as never,
    preHandler: app.authorize(['members:write']),
    handler: async (request, reply) => {
      const format = formatOf(request.headers['content-type'])
      const body: unknown = request.body
      if (!isStream(body)) throw unsupported()
      const length = Number(request.headers['content-length'])
      const answer = await importMembers(app.db, programOf(request), {
        format,
        key: request.headers['idempotency-key'],
        bytes: body,
        contentLength: Number.isFinite(length) ? length : undefined,
        actor: request.principal!.clientId,
      })
      if (answer.status === 201 && answer.importId) reply.header('location', importPath(answer.importId))
      return sendStored(request, reply, answer)
    },
  })

  app.get('/v1/member-imports/:importId', {
    schema: { operationId: 'getMemberImport', description: 'An import: its status, its counts and the opening balances it posted.', tags, summary: 'Get a member import', security: bearer, params: importParamsSchema, response: { 200: importSchema, ...commonErrors } },
    preHandler: app.authorize(['members:read', 'members:write']),
    handler: async (request) => {
      const program = programOf(request)
      const found = await findImport(db, program.id, request.params.importId)
      if (!found) throw notFound('Import')
      return importView(found, program.currency)
    },
  })

  app.get('/v1/member-imports/:importId/rows', {
    schema: {
      operationId: 'listMemberImportRows',
      description: 'The result of each row of an import, in file order: created, updated, unchanged or refused with the reason (`status=refused` lists only those).',
      tags,
      summary: 'List the results of an import’s rows',
      security: bearer,
      params: importParamsSchema,
      querystring: importRowsQuerySchema,
      response: { 200: listOf(importRowSchema), ...commonErrors },
    },
    preHandler: app.authorize(['members:read', 'members:write']),
    handler: async (request) => {
      const program = programOf(request)
      const { importId } = request.params
      if (!(await findImport(db, program.id, importId))) throw notFound('Import')
      const after = decodeCursor(request.query.cursor, (k) => /^[0-9]{1,9}$/.test(k))
      const rows = await listImportRows(db, program.id, importId, request.query.status, after === undefined ? undefined : Number(after), request.query.limit)
      const { data, nextCursor } = page(rows, request.query.limit, (r) => String(r.rowNumber))
      return { data: data.map(importRowView), nextCursor }
    },
  })
}

export default importsRoutes
