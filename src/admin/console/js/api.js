// The management REST API (DESIGN §5), as the console uses it. The admin
// token lives in this tab's sessionStorage and travels only in the
// Authorization header: never in a URL, never in localStorage.

const TOKEN_KEY = 'ringgate.adminToken';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

// A failed call: the HTTP status (0 when the gateway did not answer) and the
// error envelope's code, message and details.
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

let onUnauthorized = () => {};
// Called with the ApiError when the gateway answers 401 (token wrong or
// replaced by a reload).
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

function entityPath(collection, id, ...rest) {
  return ['', collection, encodeURIComponent(id), ...rest].join('/');
}

async function errorFrom(response) {
  let envelope = null;
  try {
    envelope = (await response.json()).error;
  } catch {
    // Not the JSON envelope (a proxy in between, an HTML error page).
  }
  if (envelope && typeof envelope.message === 'string') {
    const details = Array.isArray(envelope.details) ? envelope.details : [];
    return new ApiError(response.status, envelope.code || 'Error', envelope.message, details);
  }
  return new ApiError(response.status, 'HttpError', `the gateway answered ${response.status}`);
}

// One call. Resolves {status, etag, body} (body parsed as JSON unless
// `as: 'text'`); rejects with ApiError.
export async function call(method, path, {body, ifMatch, as = 'json', tokenOverride} = {}) {
  const headers = {Authorization: `Bearer ${tokenOverride ?? token() ?? ''}`};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'NetworkError', 'the gateway did not answer (is ringgate running?)');
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && tokenOverride === undefined) onUnauthorized(error);
    throw error;
  }
  const etag = response.headers.get('ETag');
  if (method === 'HEAD' || response.status === 204)
    return {status: response.status, etag, body: null};
  const text = await response.text();
  if (as === 'text') return {status: response.status, etag, body: text};
  return {status: response.status, etag, body: text ? JSON.parse(text) : null};
}

// Whether `candidate` is the admin token: a HEAD of the OpenAPI document,
// which always needs it.
export async function checkToken(candidate) {
  try {
    await call('HEAD', '/openapi.json', {tokenOverride: candidate});
    return null;
  } catch (error) {
    return error;
  }
}

async function list(collection) {
  const {body} = await call('GET', `/${collection}`);
  return Array.isArray(body?.value) ? body.value : [];
}

export const listCertificates = () => list('certificates');
export const listApis = () => list('apis');
export const listBackends = () => list('backends');

export async function uploadCertificate(id, base64Pfx, password) {
  const {status, body} = await call('PUT', entityPath('certificates', id), {
    body: {properties: {data: base64Pfx, password}},
  });
  return {created: status === 201, certificate: body};
}

export const deleteCertificate = (id) => call('DELETE', entityPath('certificates', id));

export async function getApi(id) {
  return (await call('GET', entityPath('apis', id))).body;
}

export async function putApi(id, path, serviceUrl) {
  const {status, body} = await call('PUT', entityPath('apis', id), {
    body: {properties: {path, serviceUrl}},
  });
  return {created: status === 201, api: body};
}

export const deleteApi = (id) => call('DELETE', entityPath('apis', id));

// The API's policy as {xml, etag}, or null when it has none.
export async function getPolicy(apiId) {
  try {
    const {body, etag} = await call('GET', entityPath('apis', apiId, 'policies', 'policy'));
    return {xml: body?.properties?.value ?? '', etag};
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

export async function putPolicy(apiId, xml, etag) {
  const {body} = await call('PUT', entityPath('apis', apiId, 'policies', 'policy'), {
    body: {properties: {format: 'xml', value: xml}},
    ifMatch: etag || undefined,
  });
  return body?.properties?.value ?? xml;
}

export async function putBackend(id, properties) {
  const {status, body} = await call('PUT', entityPath('backends', id), {body: {properties}});
  return {created: status === 201, backend: body};
}

export const deleteBackend = (id) => call('DELETE', entityPath('backends', id));

export async function metricsText() {
  return (await call('GET', '/metrics', {as: 'text'})).body;
}
