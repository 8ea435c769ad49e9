import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verdictOnAnswer } from '../../src/limits/verdict.ts';

// Bodies as real Wallaroo instances answered them (WallarooLabs/Wallaroo_Tutorials, saved notebook outputs and the
// 2025 generated OpenAPI spec), so the breaker judges Wallaroo's health and never one caller's bad rows.
test("the breaker's verdict: Wallaroo's failures open it; a caller's bad input, a refusal or an activating pipeline never does", () => {
  const cases: Array<[number, string, 'healthy' | 'unhealthy' | 'neutral']> = [
    [200, '', 'healthy'],
    [400, '{"code":400,"status":"error","error":"Invalid input: expected column tensor","source":"engine"}', 'neutral'],
    [409, '{"code":409,"status":"error","error":"this pipeline serves the OpenAI-compatible endpoints","source":"engine"}', 'neutral'],
    [422, '{"status":"error"}', 'neutral'],
    [404, '{"code":404,"status":"error","error":"Deployment not found","source":"engine"}', 'neutral'],
    [500, '{"status":"Error","error":"Error running inference: Invalid argument: input tensor has shape [1, 28], expected [1, 29]"}', 'neutral'],
    [500, '{"code":500,"status":"error","error":"Internal processing error","source":"engine"}', 'unhealthy'],
    [500, '{"status":500,"error":"injected fault"}', 'unhealthy'],
    [500, '', 'unhealthy'],
    [502, 'upstream connect error or disconnect/reset before headers', 'unhealthy'],
    [503, '{"code":503,"status":"error","error":"Pipeline is activating","source":"engine"}', 'neutral'],
    [504, 'upstream request timeout', 'unhealthy'],
  ];
  for (const [status, body, expected] of cases) assert.equal(verdictOnAnswer(status, body), expected, `${status} ${body}`);
});
