export { escapeTerminal, visibleEscape, UNSAFE_CHARACTERS } from './terminal.ts';
