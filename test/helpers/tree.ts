// Parsed documents the tests walk deep into (rendered manifests, OpenAPI documents, pandas-records answers).
// Typing every path would restate the documents; a wrong path fails the assertion that reads it.

// biome-ignore lint/suspicious/noExplicitAny: tests only; the one place an untyped tree is allowed
export type ParsedTree = Record<string, any>;
