export { parseConfig, loadConfigFile, parseYaml, readTextFile, readFileBytes, CONFIG_MAX_BYTES } from './parse.ts';
export type { ConfigSpec, ParseResult } from './parse.ts';
export { formatIssues, formatPath, issueMessage } from './format-issues.ts';
