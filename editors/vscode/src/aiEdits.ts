// Decides which edits in one document change event an AI made, and where the text they
// inserted lies in the document after the event. Pure (no `vscode` import).
//
// Invariant: the changes of one event are applied in order, each in the coordinates of the
// document the previous ones produced (how VS Code's extension host applies them and how
// vscode-languageclient forwards them in one `didChange`). VS Code sorts them last-first, in
// which case these are also the pre-event coordinates.

/** One content change: an offset range of the document before it, and its replacement. */
export interface TextChange {
  rangeOffset: number;
  rangeLength: number;
  text: string;
}

/** A half-open offset range in the document after the whole event. */
export interface OffsetRange {
  start: number;
  end: number;
}

/** An insertion this short (or shorter) counts as a key press, not as generated text. */
export const KEYSTROKE_MAX_CHARS = 2;
/** A single-line insertion this long or longer, made while nobody typed, counts as AI-written. */
export const MIN_AI_INSERT_CHARS = 16;
/** How long after a key press an insertion is still the person typing (a snippet, a completion). */
export const TYPING_WINDOW_MS = 1000;

export type ChangeReason = 'undo' | 'redo' | undefined;

export interface EditContext {
  reason: ChangeReason;
  /** The document is shown in a visible editor. */
  visible: boolean;
  /**
   * The document matches its file on disk after the change: a reload after `git checkout` or a
   * tool writing the file. Agents that write files are recorded by their hooks, not here.
   */
  clean: boolean;
  /** Milliseconds since the last key press in this document; `undefined`: none seen. */
  msSinceKeystroke: number | undefined;
  /** The document's text after the event, to tell copied code from new code. */
  textAfter?: string;
}

/** The (normalised) clipboard text, read only when an edit could be a paste. */
export type ClipboardReader = () => Promise<string>;

/** A change a person's key press makes: a deletion, a character or two, Enter with indentation. */
export function isKeystroke(change: TextChange): boolean {
  if (change.text === '') {
    return true;
  }
  if (change.text.length <= KEYSTROKE_MAX_CHARS && !change.text.includes('\n')) {
    return true;
  }
  const newlines = change.text.split('\n').length - 1;
  return newlines <= 1 && change.text.trim() === '';
}

/** An event made of key presses only, which is what marks a document as being typed in. */
export function isTyping(changes: readonly TextChange[], reason: ChangeReason): boolean {
  return reason === undefined && changes.length > 0 && changes.every(isKeystroke);
}

function looksGenerated(change: TextChange): boolean {
  const text = change.text;
  if (text.trim() === '' || isRewrite(change)) {
    return false;
  }
  return text.includes('\n') || text.length >= MIN_AI_INSERT_CHARS;
}

/**
 * A change that replaces a stretch of text with about as much text: a command reworking what
 * is there (Format Document, Transform to Uppercase, Sort Lines), not new code. An assistant
 * rewriting a block in place is missed here, but its multi-line edit is still caught by the
 * server's bulk-edit heuristic.
 */
export function isRewrite(change: TextChange): boolean {
  const replaced = change.rangeLength;
  return (
    replaced >= MIN_AI_INSERT_CHARS && Math.abs(change.text.length - replaced) * 4 <= replaced
  );
}

/**
 * The inserted text is already in the document elsewhere (Copy Line Down, Duplicate
 * Selection): copied code keeps whatever authorship its original has.
 */
export function isCopy(inserted: string, textAfter: string, range: OffsetRange): boolean {
  const needle = inserted.trim();
  if (needle === '') {
    return false;
  }
  const before = textAfter.slice(0, range.start);
  const after = textAfter.slice(range.end);
  return before.includes(needle) || after.includes(needle);
}

/** Line by line without surrounding blanks or `\r`: a paste may be re-indented on the way in. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trim())
    .join('\n')
    .trim();
}

/**
 * Whether the inserted text came from the clipboard: the whole clipboard, or one of its lines
 * (a multi-cursor paste spreads the lines over the cursors).
 */
export function isPaste(text: string, clipboard: string): boolean {
  const inserted = normalise(text);
  const pasted = normalise(clipboard);
  if (inserted === '' || pasted === '') {
    return false;
  }
  if (inserted === pasted) {
    return true;
  }
  return !inserted.includes('\n') && pasted.split('\n').includes(inserted);
}

/**
 * The indexes of the changes an AI made, or none. Reads the clipboard at most once, and only
 * when a change in a visible editor could otherwise be attributed.
 */
export async function aiChangeIndexes(
  changes: readonly TextChange[],
  context: EditContext,
  readClipboard: ClipboardReader,
): Promise<number[]> {
  if (context.reason !== undefined || context.clean) {
    return [];
  }
  const candidates = changes.flatMap((change, index) =>
    change.text.trim() !== '' ? [index] : [],
  );
  if (!context.visible) {
    // Nobody types or pastes into a document no editor shows: a chat or agent edit wrote
    // new code there; a rename or a search-and-replace across files writes only words.
    return candidates.filter((index) => looksGenerated(changes[index]));
  }
  if (context.msSinceKeystroke !== undefined && context.msSinceKeystroke < TYPING_WINDOW_MS) {
    return [];
  }
  const ranges = context.textAfter === undefined ? [] : insertedRanges(changes);
  const generated = candidates.filter((index) => {
    const change = changes[index];
    const range = ranges[index];
    if (!looksGenerated(change)) {
      return false;
    }
    return context.textAfter === undefined || !range || !isCopy(change.text, context.textAfter, range);
  });
  if (generated.length === 0) {
    return [];
  }
  let clipboard: string;
  try {
    clipboard = await readClipboard();
  } catch {
    // No clipboard access (a remote or a web host may refuse): nothing to compare with.
    clipboard = '';
  }
  return generated.filter((index) => !isPaste(changes[index].text, clipboard));
}

/**
 * Where the text each change inserted lies after the whole event (`null` if a later change
 * deleted all of it). A later change that overlaps an insertion widens its range to cover the
 * replacement: the result still holds everything the insertion became.
 */
export function insertedRanges(changes: readonly TextChange[]): (OffsetRange | null)[] {
  return changes.map((change, index) => {
    let range: OffsetRange = {
      start: change.rangeOffset,
      end: change.rangeOffset + change.text.length,
    };
    for (const later of changes.slice(index + 1)) {
      const mapped = mapThrough(range, later);
      if (mapped === null) {
        return null;
      }
      range = mapped;
    }
    return range.end > range.start ? range : null;
  });
}

function mapThrough(range: OffsetRange, change: TextChange): OffsetRange | null {
  const from = change.rangeOffset;
  const to = change.rangeOffset + change.rangeLength;
  const delta = change.text.length - change.rangeLength;
  if (to <= range.start) {
    // Entirely before; an insertion exactly at the start pushes the range right.
    return { start: range.start + delta, end: range.end + delta };
  }
  if (from >= range.end) {
    return range;
  }
  if (from <= range.start && to >= range.end) {
    // The change replaced all of the inserted text.
    return change.text === '' ? null : { start: from, end: from + change.text.length };
  }
  return {
    start: Math.min(range.start, from),
    end: to >= range.end ? from + change.text.length : range.end + delta,
  };
}
