import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { oas31 } from 'zod-openapi';

/** What the checker reads of a reply. */
export interface CheckedReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** The operation a reply answered (`GET /users/{id}`), and what is wrong with the reply: nothing when it is right. */
export interface ReplyCheck {
  readonly operation: string;
  readonly problems: readonly string[];
}

/**
 * Checks real replies against an OpenAPI 3.1 document: `check` finds the operation by method and
 * path template (a concrete path before a templated one, as OpenAPI matches them) and answers
 * null when the document describes no such operation (an unknown path, a method the path does not
 * take, tRPC). Otherwise it names the operation and what is wrong with the reply: a
 * status the operation does not list, a media type its response does not list, a body that fails
 * the response's schema (JSON Schema 2020-12, OpenAPI 3.1's dialect, with formats), a body where
 * none is described or none where one is, a required header missing, or a header that fails its
 * schema.
 *
 * @example
 * const checker = createReplyChecker(openApiDocument(server.url));
 * checker.check('GET', new URL(`${server.url}/users/me`), reply); // { operation: 'GET /users/me', problems: [] }
 */
export const createReplyChecker = (document: oas31.OpenAPIObject) => {
  const documentId = 'pos-auth:openapi.json';
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(document as object, documentId);

  const validators = new Map<string, ValidateFunction>();
  /** The validator of the schema at `pointer` in the document, compiled once. */
  const validatorAt = (pointer: string): ValidateFunction => {
    let validate = validators.get(pointer);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: `${documentId}#${pointer}` });
      validators.set(pointer, validate);
    }
    return validate;
  };

  const escape = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');
  /** An object of the document and its JSON pointer, through a `$ref` when it is one. */
  const resolve = <T>(value: T | oas31.ReferenceObject, pointer: string): { value: T; pointer: string } => {
    if (typeof value !== 'object' || value === null || !('$ref' in value)) return { value, pointer };
    const target = value.$ref.replace(/^#/u, '');
    const resolved = target
      .split('/')
      .slice(1)
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')], document);
    return resolve(resolved as T | oas31.ReferenceObject, target);
  };

  const templates = Object.keys(document.paths ?? {}).map((template) => ({ template, segments: template.split('/') }));
  /** How many literal segments of a template `segments` matches, or null when it does not match it. */
  const literalsMatched = (template: readonly string[], segments: readonly string[]): number | null => {
    if (template.length !== segments.length) return null;
    let literals = 0;
    for (const [i, segment] of template.entries()) {
      if (segment.startsWith('{')) {
        if (segments[i] === '') return null;
      } else if (segment === segments[i]) literals += 1;
      else return null;
    }
    return literals;
  };
  /** The path template that `path` matches, a concrete one before a templated one. */
  const templateOf = (path: string): string | null => {
    const segments = path.split('/');
    let best: { template: string; literals: number } | null = null;
    for (const candidate of templates) {
      const literals = literalsMatched(candidate.segments, segments);
      if (literals !== null && (best === null || literals > best.literals)) best = { template: candidate.template, literals };
    }
    return best?.template ?? null;
  };

  /** ajv's errors, one line; a property that is not allowed is named (a leaked field, say). */
  const failures = (validate: ValidateFunction) =>
    (validate.errors ?? [])
      .map((error) => {
        const unexpected = error.keyword === 'additionalProperties' ? ` (${String(error.params['additionalProperty'])})` : '';
        return `${error.instancePath || '(root)'} ${error.message ?? ''}${unexpected}`;
      })
      .join('; ');

  const checkHeaders = (response: oas31.ResponseObject, pointer: string, headers: Headers): string[] =>
    Object.entries(response.headers ?? {}).flatMap(([name, declared]) => {
      const header = resolve<oas31.HeaderObject>(declared, `${pointer}/headers/${escape(name)}`);
      const value = headers.get(name);
      if (value === null) return header.value.required ? [`the header ${name} is missing`] : [];
      const schema = header.value.schema as oas31.SchemaObject | undefined;
      if (schema === undefined) return [];
      const typed = schema.type === 'integer' && /^-?\d+$/u.test(value) ? Number(value) : value;
      const validate = validatorAt(`${header.pointer}/schema`);
      return validate(typed) ? [] : [`the header ${name} (${value}) ${failures(validate)}`];
    });

  const checkBody = (response: oas31.ResponseObject, pointer: string, reply: CheckedReply): string[] => {
    const content = response.content ?? {};
    if (reply.text === '') return Object.keys(content).length === 0 ? [] : [`an empty body, where the document describes ${Object.keys(content).join(', ')}`];
    const mediaType = reply.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '(none)';
    if (!(mediaType in content)) return [`a body of ${mediaType}, where the document describes ${Object.keys(content).join(', ') || 'none'}`];
    let body: unknown;
    try {
      body = JSON.parse(reply.text);
    } catch {
      return [`a body of ${mediaType} that is not JSON`];
    }
    const validate = validatorAt(`${pointer}/content/${escape(mediaType)}/schema`);
    return validate(body) ? [] : [`a body that does not match the schema: ${failures(validate)}`];
  };

  const verbs = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
  const isVerb = (value: string): value is (typeof verbs)[number] => (verbs as readonly string[]).includes(value);

  return {
    check: (method: string, url: URL, reply: CheckedReply): ReplyCheck | null => {
      const template = templateOf(url.pathname);
      const verb = method.toLowerCase();
      const operation = template === null || !isVerb(verb) ? undefined : document.paths?.[template]?.[verb];
      if (template === null || operation === undefined) return null;
      const name = `${verb.toUpperCase()} ${template}`;
      const declared = operation.responses?.[String(reply.status)];
      if (declared === undefined) return { operation: name, problems: [`status ${reply.status}, which the document does not list`] };
      const response = resolve<oas31.ResponseObject>(declared, `/paths/${escape(template)}/${verb}/responses/${reply.status}`);
      return { operation: name, problems: [...checkHeaders(response.value, response.pointer, reply.headers), ...checkBody(response.value, response.pointer, reply)] };
    },
  };
};

export type ReplyChecker = ReturnType<typeof createReplyChecker>;
