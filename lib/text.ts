/**
 * `text` cut to at most `max` characters, marked with an ellipsis when cut. Messages that may carry what a caller
 * or a server sent stay bounded, in error bodies and log lines alike.
 */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
