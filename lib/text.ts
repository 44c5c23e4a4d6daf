/**
 * `text` cut to at most `max` characters, marked with an ellipsis when cut. Messages that may carry what a caller
 * or a server sent stay bounded, in error bodies and log lines alike.
 */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The most characters of someone's value a message quotes: enough to recognise it, never a pasted page. */
const QUOTED_CHARS = 60;

/** A value quoted in a message: in double quotes, cleaned of control characters and cut to QUOTED_CHARS. */
export function quoted(text: string): string {
  return `"${cleanText(text, QUOTED_CHARS)}"`;
}

/**
 * Control characters (C0, DEL, C1) and the invisible marks that reorder text on screen. Written to a terminal
 * they move the cursor, recolour or rewrite earlier lines; in a log or a JSON answer they hide what follows.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/**
 * Text from outside (a CMS answer, a caller's input) made fit for any sink: every run of control characters
 * becomes one space, and the result is clipped to `max` characters. Cleaning comes first, so a long run of
 * control characters cannot push the readable part out of the clip.
 */
export function cleanText(text: string, max: number): string {
  return clip(text.replace(UNPRINTABLE, ' '), max);
}
