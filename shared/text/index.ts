export { escapeTerminal } from './terminal.ts';
