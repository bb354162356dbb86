// The catalog served at each problem's `type` URI: a developer who follows `type` from an error
// answer reads what went wrong and what to do. HTML for browsers, JSON for `Accept: application/json`.
import { z } from 'zod'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { FastifyRequest } from 'fastify'
import { notFound } from '../../shared/errors.js'
import { PROBLEMS, PROBLEM_CODES, codeOfSlug, slugOf, type ProblemCode } from './catalog.js'

export const problemTypeSchema = z
  .object({
    type: z.string().describe('The URI of this page, the `type` of problems with this code'),
    code: z.string(),
    status: z.array(z.number().int()),
    title: z.string(),
    meaning: z.string().describe('What went wrong'),
    action: z.string().describe('What the caller should do'),
  })
  .meta({ id: 'ProblemType' })

export type ProblemTypeView = z.infer<typeof problemTypeSchema>

export const problemTypeOf = (code: ProblemCode): ProblemTypeView => ({ type: `/problems/${slugOf(code)}`, code, ...PROBLEMS[code], status: [...PROBLEMS[code].status] })

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)

const page = (title: string, body: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>\n${body}\n</body></html>\n`

export function problemTypePage(p: ProblemTypeView): string {
  return page(
    `${p.code}: ${p.title}`,
    `<h1>${escape(p.title)}</h1>\n<p><code>${p.code}</code>, HTTP ${p.status.join(' or ')}</p>\n` +
      `<h2>What went wrong</h2>\n<p>${escape(p.meaning)}</p>\n<h2>What to do</h2>\n<p>${escape(p.action)}</p>\n<p><a href="/problems">All problem types</a></p>`,
  )
}

export function problemListPage(all: ProblemTypeView[]): string {
  const rows = all.map((p) => `<tr><td><a href="${p.type}"><code>${p.code}</code></a></td><td>${p.status.join(', ')}</td><td>${escape(p.title)}</td></tr>`)
  return page('Problem types', `<h1>Problem types</h1>\n<table><tr><th>code</th><th>status</th><th>title</th></tr>\n${rows.join('\n')}\n</table>`)
}

/** JSON when the client asks for it and not for HTML; a browser gets the page. */
const wantsJson = (request: FastifyRequest) => {
  const accept = request.headers.accept ?? ''
  return /application\/(problem\+)?json/.test(accept) && !/text\/html/.test(accept)
}

const description = 'Public, no authentication. HTML by default (a browser following a problem `type`); JSON with `Accept: application/json`. Writes nothing.'

/** An HTML page for people. */
const htmlPage = z.string()

const problemsRoutes: FastifyPluginAsyncZod = async (app) => {
  const all = PROBLEM_CODES.map(problemTypeOf)

  app.get('/problems', {
    schema: {
      operationId: 'listProblemTypes',
      tags: ['problems'],
      summary: 'Every problem type the service answers, with its code, statuses and title',
      description,
      response: {
        200: {
          description: 'The catalog: JSON with `Accept: application/json`, else an HTML page',
          content: { 'application/json': { schema: z.object({ data: z.array(problemTypeSchema) }).meta({ id: 'ProblemTypeList' }) }, 'text/html': { schema: htmlPage } },
        },
      },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'public, max-age=3600').header('vary', 'accept')
      if (wantsJson(request)) return { data: all }
      return reply.type('text/html; charset=utf-8').serializer(String).send(problemListPage(all) as never)
    },
  })

  app.get('/problems/:slug', {
    schema: {
      operationId: 'getProblemType',
      tags: ['problems'],
      summary: 'What one problem type means and what to do about it',
      description: `${description} An unknown slug is 404 NOT_FOUND.`,
      params: z.object({ slug: z.string().max(100).describe('The code in kebab-case, e.g. validation-failed') }),
      'x-problems': { 404: ['NOT_FOUND'] },
      response: {
        200: { description: 'The problem type: JSON with `Accept: application/json`, else an HTML page', content: { 'application/json': { schema: problemTypeSchema }, 'text/html': { schema: htmlPage } } },
      },
    },
    handler: async (request, reply) => {
      const code = codeOfSlug(request.params.slug)
      if (!code) throw notFound(`Problem type ${request.params.slug}`)
      const view = problemTypeOf(code)
      reply.header('cache-control', 'public, max-age=3600').header('vary', 'accept')
      if (wantsJson(request)) return view
      return reply.type('text/html; charset=utf-8').serializer(String).send(problemTypePage(view) as never)
    },
  })
}

export default problemsRoutes
