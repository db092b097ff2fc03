// Contract check: sends real requests to a running smsgw and validates every answer (status,
// Content-Type, documented headers, JSON body) against openapi.yaml, with the JSON Schemas of
// the document itself (Ajv, draft 2020-12, $refs resolved inside the document).
//
//   node contract.mjs --spec openapi.yaml --base http://127.0.0.1:PORT --phase open
//   node contract.mjs --spec openapi.yaml --base http://127.0.0.1:PORT --phase auth --key KEY
//
// "open": a keyless gateway registered with the local operator (send rate 2/s, so a message
// can be seen queued). "auth": a gateway with [api] keys whose operator is unreachable, so
// /health is degraded. Prints one "ok - ..." or "not ok - ... : why" line per check.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const { values: opt } = parseArgs({
    options: {
        spec: { type: 'string' },
        base: { type: 'string' },
        phase: { type: 'string', default: 'open' },
        key: { type: 'string', default: '' },
    },
});
const doc = YAML.parse(readFileSync(opt.spec, 'utf8'));
const ID = 'https://smsgw.invalid/openapi'; // a name only, never fetched
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addSchema(doc, ID);
const base = new URL(opt.base);
let failures = 0;

function report(ok, what, why) {
    if (ok) {
        console.log(`ok - ${what}`);
    } else {
        failures++;
        console.log(`not ok - ${what}: ${why}`.replace(/\s+/g, ' '));
    }
}

// ---- the document ----

const escape = (s) => encodeURIComponent(String(s).replace(/~/g, '~0').replace(/\//g, '~1'));

function at(pointer) {
    return pointer.split('/').slice(1).reduce((node, seg) => {
        const key = decodeURIComponent(seg).replace(/~1/g, '/').replace(/~0/g, '~');
        return node === undefined ? undefined : node[key];
    }, doc);
}

// Follows a local $ref (response or header objects); returns [object, pointer].
function deref(pointer) {
    let node = at(pointer);
    for (let i = 0; node && node.$ref && i < 10; i++) {
        pointer = node.$ref.replace(/^#/, '').split('/').map((s, j) => (j ? escape(
            s.replace(/~1/g, '/').replace(/~0/g, '~')) : s)).join('/');
        node = at(pointer);
    }
    return [node, pointer];
}

const validators = new Map();
function schemaErrors(pointer, value) {
    if (!validators.has(pointer))
        validators.set(pointer, ajv.compile({ $ref: `${ID}#${pointer}` }));
    const v = validators.get(pointer);
    if (v(value))
        return [];
    return v.errors.map((e) => {
        const extra = e.params?.additionalProperty ?? e.params?.allowedValues;
        const got = e.keyword === 'enum' || e.keyword === 'const' ? `, got ${JSON.stringify(
            e.instancePath.split('/').slice(1).reduce((x, k) => x?.[k], value))}` : '';
        const what = extra ? ` ${JSON.stringify(extra)}` : '';
        return `${e.instancePath || '/'} ${e.message}${what}${got}`;
    });
}

// The operation object's pointer for METHOD on the path template; for a method the path does
// not define (a 405), the first operation the path has.
function operationPointer(method, template) {
    const item = `/paths/${escape(template)}`;
    const node = at(item);
    if (!node)
        return null;
    const m = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    if (node[m])
        return `${item}/${m}`;
    const any = ['get', 'post', 'put', 'delete', 'patch'].find((k) => node[k]);
    return any ? `${item}/${any}` : null;
}

// ---- HTTP ----

function request(method, path, { body, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
        const h = { ...headers };
        if (opt.key && h.Authorization === undefined)
            h.Authorization = `Bearer ${opt.key}`;
        if (h.Authorization === null)
            delete h.Authorization;
        if (body !== undefined) {
            h['Content-Type'] = h['Content-Type'] ?? 'application/json';
            h['Content-Length'] = Buffer.byteLength(body);
        }
        const req = http.request({ host: base.hostname, port: base.port, method, path,
                                   headers: h, agent: false, timeout: 15000 }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ method, path, status: res.statusCode,
                                          headers: res.headers,
                                          text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        if (body !== undefined)
            req.write(body);
        req.end();
    });
}

// Checks one answer against the operation METHOD TEMPLATE (or, for a path the document does not
// have, against the response object at FALLBACK). Returns the parsed body.
function conforms(what, res, template, { status, fallback } = {}) {
    const why = [];
    let json = null;
    if (status !== undefined && res.status !== status)
        why.push(`status ${res.status}, want ${status}`);
    let respPtr = null;
    const opPtr = template ? operationPointer(res.method, template) : null;
    if (opPtr) {
        const responses = at(`${opPtr}/responses`);
        const key = responses[String(res.status)] ? String(res.status)
                  : responses.default ? 'default' : null;
        if (key)
            respPtr = `${opPtr}/responses/${key}`;
        else
            why.push(`status ${res.status} is not documented for ${res.method} ${template}`);
    } else if (fallback) {
        respPtr = fallback;
    } else {
        why.push(`${template} is not in the document`);
    }
    if (res.headers['cache-control'] !== 'no-store')
        why.push(`Cache-Control '${res.headers['cache-control']}'`);
    if (res.headers['x-content-type-options'] !== 'nosniff')
        why.push(`X-Content-Type-Options '${res.headers['x-content-type-options']}'`);
    if (respPtr) {
        const [resp, ptr] = deref(respPtr);
        for (const name of Object.keys(resp.headers ?? {})) {
            const value = res.headers[name.toLowerCase()];
            const [h, hptr] = deref(`${ptr}/headers/${escape(name)}`);
            if (value === undefined || !h?.schema)
                continue;
            const numeric = ['integer', 'number'].includes(h.schema.type);
            for (const e of schemaErrors(`${hptr}/schema`, numeric ? Number(value) : value))
                why.push(`header ${name}: ${e}`);
        }
        const ctype = type(res);
        if (res.method === 'HEAD') {
            if (res.text !== '')
                why.push('HEAD answer has a body');
        } else if (resp.content) {
            if (!resp.content[ctype]) {
                why.push(`Content-Type '${ctype}', want ${Object.keys(resp.content).join(' or ')}`);
            } else {
                try {
                    json = JSON.parse(res.text);
                } catch (e) {
                    why.push(`body is not JSON: ${e.message}`);
                }
                if (json !== null)
                    for (const e of schemaErrors(`${ptr}/content/${escape(ctype)}/schema`, json))
                        why.push(`body ${e}`);
            }
        }
    }
    if (json && type(res) === 'application/problem+json') {
        if (json.status !== res.status)
            why.push(`problem status ${json.status} differs from ${res.status}`);
        if (json.type !== `https://smsgw.dev/errors/${json.code}`)
            why.push(`problem type '${json.type}' does not name code '${json.code}'`);
    }
    report(why.length === 0, `${what}: ${res.method} ${res.path} -> ${res.status}`,
           why.slice(0, 4).join('; '));
    return json;
}

function type(res) {
    return (res.headers['content-type'] ?? '').split(';')[0].trim();
}

function expect(what, cond, why) {
    report(Boolean(cond), what, why);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitStatus(id, want, seconds) {
    const end = Date.now() + seconds * 1000;
    let res;
    while (Date.now() < end) {
        res = await request('GET', `/messages/${id}`);
        if (res.status === 200 && JSON.parse(res.text).status === want)
            return res;
        await sleep(100);
    }
    return res;
}

const msg = (to, text, extra = {}) => JSON.stringify({ to, text, ...extra });

// ---- phases ----

async function phaseOpen() {
    const live = await request('GET', '/health/live');
    conforms('liveness', live, '/health/live', { status: 200 });
    const head = await request('HEAD', '/health/live');
    conforms('HEAD on a GET path', head, '/health/live', { status: 200 });
    conforms('health', await request('GET', '/health'), '/health', { status: 200 });
    conforms('readiness', await request('GET', '/health/ready'), '/health/ready', { status: 200 });
    const reg = conforms('registration', await request('GET', '/registrations'), '/registrations',
                         { status: 200 });
    expect('registration state is registered', reg?.state === 'registered', `state ${reg?.state}`);

    // Five at once at 2 per second: the last one waits in the queue for a while.
    let last = null;
    for (let i = 1; i <= 5; i++) {
        const res = await request('POST', '/messages', {
            body: msg('+15550100', `contract ${i} Grüße`, { reference: `c-${i}` }),
            headers: { 'Idempotency-Key': `contract-${i}-${process.pid}` } });
        last = conforms(`accept ${i}`, res, '/messages', { status: 202 });
        if (i === 5)
            expect('Location names the new message', last &&
                   res.headers.location === `/messages/${last.id}`,
                   `Location '${res.headers.location}'`);
    }
    if (!last)
        return;
    const queued = conforms('a queued message', await request('GET', `/messages/${last.id}`),
                            '/messages/{id}', { status: 200 });
    expect('it is queued, with next_attempt_at', queued?.status === 'queued' &&
           queued.next_attempt_at !== null, `status ${queued?.status}`);
    const doomed = conforms('accept 6', await request('POST', '/messages',
                            { body: msg('+15550100', 'contract 6, to be cancelled') }),
                            '/messages', { status: 202 });
    if (doomed) {
        const gone = conforms('cancel a queued message',
                              await request('DELETE', `/messages/${doomed.id}`),
                              '/messages/{id}', { status: 200 });
        expect('it is cancelled', gone?.status === 'cancelled', `status ${gone?.status}`);
        conforms('cancel it again', await request('DELETE', `/messages/${doomed.id}`),
                 '/messages/{id}', { status: 200 });
    }
    conforms('HEAD of a message', await request('HEAD', `/messages/${last.id}`), '/messages/{id}',
             { status: 200 });
    const sent = conforms('a sent message', await waitStatus(last.id, 'sent', 15),
                          '/messages/{id}', { status: 200 });
    expect('it is sent with the operator\'s 200', sent?.status === 'sent' &&
           sent.sip?.status === 200, `status ${sent?.status} sip ${sent?.sip?.status}`);

    conforms('409 cancel of a sent message', await request('DELETE', `/messages/${last.id}`),
             '/messages/{id}', { status: 409 });
    if (doomed) {
        const still = conforms('the cancelled message after the others went out',
                               await request('GET', `/messages/${doomed.id}`), '/messages/{id}',
                               { status: 200 });
        expect('it was never sent', still?.status === 'cancelled' && still.attempts === 0,
               `status ${still?.status} attempts ${still?.attempts}`);
    }
    const list = conforms('list', await request('GET', '/messages'), '/messages',
                          { status: 200 });
    expect('the list holds the sent message, newest first', list?.items?.some(
        (m) => m.id === last.id) && list.items.every((m, i, a) => !i || a[i - 1].id > m.id),
           `${list?.items?.length} items`);
    const page = conforms('a filtered page', await request(
        'GET', '/messages?status=sent&direction=outbound&limit=2'), '/messages', { status: 200 });
    expect('a page of 2 with a next_cursor', page?.items?.length === 2 &&
           page.items.every((m) => m.status === 'sent') && page.next_cursor,
           `${page?.items?.length} items, next_cursor ${page?.next_cursor}`);
    if (page?.next_cursor)
        conforms('the next page', await request(
            'GET', `/messages?status=sent&direction=outbound&limit=2&cursor=${page.next_cursor}`),
                 '/messages', { status: 200 });
    conforms('422 unknown list parameter', await request('GET', '/messages?colour=red'),
             '/messages', { status: 422 });
    conforms('422 bad limit', await request('GET', '/messages?limit=0'), '/messages',
             { status: 422 });

    const replay = await request('POST', '/messages', {
        body: msg('+15550100', 'contract 5 Grüße', { reference: 'c-5' }),
        headers: { 'Idempotency-Key': `contract-5-${process.pid}` } });
    const again = conforms('an idempotent replay', replay, '/messages', { status: 202 });
    expect('the replay says Idempotent-Replayed: true, same id',
           replay.headers['idempotent-replayed'] === 'true' && again?.id === last.id,
           `header '${replay.headers['idempotent-replayed']}' id ${again?.id}`);

    const unknown = conforms('accept (unknown number)',
                             await request('POST', '/messages', { body: msg('+15550199', 'x') }),
                             '/messages', { status: 202 });
    if (unknown) {
        const failed = conforms('a failed message', await waitStatus(unknown.id, 'failed', 15),
                                '/messages/{id}', { status: 200 });
        expect('it failed with the operator\'s 404 and an error object',
               failed?.sip?.status === 404 && failed?.error?.code === 'unknown_number',
               `sip ${failed?.sip?.status} error ${failed?.error?.code}`);
    }

    const errors = [
        ['400 invalid_json', 'POST', '/messages', '/messages', 400, { body: '{"to":' }],
        ['400 invalid_idempotency_key', 'POST', '/messages', '/messages', 400,
         { body: msg('+15550100', 'x'), headers: { 'Idempotency-Key': 'k'.repeat(256) } }],
        ['404 unknown id', 'GET', '/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV', '/messages/{id}', 404],
        ['404 malformed id', 'GET', '/messages/not-an-id', '/messages/{id}', 404],
        ['405 on /messages/{id}', 'PUT', `/messages/${last.id}`, '/messages/{id}', 405,
         { body: '{}' }],
        ['405 on /health', 'POST', '/health', '/health', 405, { body: '{}' }],
        ['405 on /registrations', 'PATCH', '/registrations', '/registrations', 405],
        ['413', 'POST', '/messages', '/messages', 413,
         { body: msg('+15550100', 'a'.repeat(20000)) }],
        ['415', 'POST', '/messages', '/messages', 415,
         { body: msg('+15550100', 'x'), headers: { 'Content-Type': 'text/plain' } }],
        ['422 invalid_number', 'POST', '/messages', '/messages', 422,
         { body: msg('+1555abc', 'x') }],
        ['422 text_too_long', 'POST', '/messages', '/messages', 422,
         { body: msg('+15550100', 'a'.repeat(1700)) }],
        ['413 too_large_for_udp', 'POST', '/messages', '/messages', 413,
         { body: msg('+15550100', 'a'.repeat(1000)) }],
        ['404 cancel of an unknown id', 'DELETE', '/messages/01ARZ3NDEKTSV4RRFFQ69G5FAV',
         '/messages/{id}', 404],
        ['405 on /messages', 'PUT', '/messages', '/messages', 405, { body: '{}' }],
        ['422 idempotency_key_reused', 'POST', '/messages', '/messages', 422,
         { body: msg('+15550100', 'changed'),
           headers: { 'Idempotency-Key': `contract-5-${process.pid}` } }],
    ];
    for (const [what, method, path, template, status, o] of errors)
        conforms(what, await request(method, path, o), template, { status });
    conforms('404 unknown path', await request('GET', '/nowhere'), null,
             { status: 404, fallback: '/components/responses/NotFound' });
    const tooLong = await request('POST', '/messages',
                                  { body: msg('+15550100', 'a'.repeat(1700)) });
    const p = JSON.parse(tooLong.text);
    expect('422 names the field in errors[]', p.errors?.[0]?.field === 'text' &&
           p.errors[0].code === 'text_too_long', JSON.stringify(p.errors));
}

async function phaseAuth() {
    conforms('liveness without a key', await request('GET', '/health/live',
             { headers: { Authorization: null } }), '/health/live', { status: 200 });
    conforms('401 without a key', await request('GET', '/health',
             { headers: { Authorization: null } }), '/health', { status: 401 });
    conforms('401 with a wrong key', await request('POST', '/messages',
             { body: msg('+15550100', 'x'), headers: { Authorization: 'Bearer wrong' } }),
             '/messages', { status: 401 });
    conforms('401 for an unknown path', await request('GET', '/nowhere',
             { headers: { Authorization: null } }), null,
             { status: 401, fallback: '/components/responses/Unauthorized' });
    const health = conforms('degraded health', await request('GET', '/health'), '/health',
                            { status: 503 });
    expect('health says degraded, registration not ready',
           health?.status === 'degraded' && health.registration?.ready === false,
           JSON.stringify(health?.registration));
    conforms('not ready', await request('GET', '/health/ready'), '/health/ready', { status: 503 });
    const reg = conforms('registration while the operator is unreachable',
                         await request('GET', '/registrations'), '/registrations', { status: 200 });
    expect('registration is not registered', reg && reg.state !== 'registered',
           `state ${reg?.state}`);
    const acc = conforms('accept with a key', await request('POST', '/messages',
                         { body: msg('+15550100', 'with a key') }), '/messages', { status: 202 });
    if (acc)
        conforms('the message with a key', await request('GET', `/messages/${acc.id}`),
                 '/messages/{id}', { status: 200 });
}

// Failed checks are reported line by line; the exit status says whether the phase finished.
try {
    await (opt.phase === 'auth' ? phaseAuth() : phaseOpen());
} catch (e) {
    report(false, `phase ${opt.phase} ran to the end`, e.stack);
    process.exit(1);
}
console.log(`${failures} of the checks above failed`);
process.exit(0);
