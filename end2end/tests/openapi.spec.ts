import { test, expect } from '@playwright/test';

test('the API describes itself in a valid OpenAPI 3.1 document with absolute paths', async ({ request, javaScriptEnabled }) => {
  test.skip(!javaScriptEnabled, 'one document, checked once');
  const response = await request.get('/api/openapi.json');
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toContain('application/json');
  const document = await response.json();
  expect(document.openapi).toMatch(/^3\.1\.\d+$/);

  // The official OpenAPI 3.1 schema (with its JSON Schema dialect) says it is well-formed.
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const validator = new Validator();
  const result = await validator.validate(document);
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');

  const paths = Object.keys(document.paths);
  expect(paths.length).toBeGreaterThan(30);
  for (const path of paths) expect(path).toMatch(/^\/api\//);
  for (const path of ['/api/orders', '/api/tickets/{id}', '/api/admin/tickets/{id}/takedown', '/api/events', '/api/feed']) {
    expect(paths).toContain(path);
  }
});
