export { parseConfig, loadConfigFile, parseYaml, readTextFile, readFileBytes, CONFIG_MAX_BYTES } from './parse.ts';
export type { ConfigSpec, ParseResult } from './parse.ts';
export { formatIssues, formatPath } from './format-issues.ts';
