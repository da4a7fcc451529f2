export { parseConfig, loadConfigFile, parseYaml, readTextFile } from './parse.ts';
export type { ConfigSpec, ParseResult } from './parse.ts';
export { formatIssues, formatPath } from './format-issues.ts';
