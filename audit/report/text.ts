/** Counts as people read them in every report format: `48,213`, `1 alert`, `2 alerts`. */
export function num(value: number): string {
  return value.toLocaleString('en-US');
}

export function plural(count: number, word: string): string {
  return `${num(count)} ${word}${count === 1 ? '' : 's'}`;
}
