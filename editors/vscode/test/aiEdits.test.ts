import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aiChangeIndexes,
  insertedRanges,
  isCopy,
  isRewrite,
  isKeystroke,
  isPaste,
  isTyping,
  MIN_AI_INSERT_CHARS,
  TYPING_WINDOW_MS,
  type EditContext,
  type TextChange,
} from '../src/aiEdits';

/** Applies changes in order, each in the coordinates the previous ones left, as VS Code does. */
function applyChanges(text: string, changes: readonly TextChange[]): string {
  let result = text;
  for (const change of changes) {
    result =
      result.slice(0, change.rangeOffset) +
      change.text +
      result.slice(change.rangeOffset + change.rangeLength);
  }
  return result;
}

const idle: EditContext = { reason: undefined, visible: true, clean: false, msSinceKeystroke: undefined };
const noClipboard = () => Promise.resolve('');
const DROP = 'DROP TABLE users;\nDROP TABLE orders;\n';

function insert(rangeOffset: number, text: string): TextChange {
  return { rangeOffset, rangeLength: 0, text };
}

describe('key presses', () => {
  it('a character, an auto-closed pair, Enter with indentation and a deletion are typing', () => {
    assert.ok(isKeystroke(insert(0, 'a')));
    assert.ok(isKeystroke(insert(0, '()')));
    assert.ok(isKeystroke(insert(0, '\n    ')));
    assert.ok(isKeystroke({ rangeOffset: 0, rangeLength: 30, text: '' }));
  });

  it('a line of code or two blank lines at once are not typing', () => {
    assert.ok(!isKeystroke(insert(0, 'rm -rf /')));
    assert.ok(!isKeystroke(insert(0, '\n\n')));
    assert.ok(!isKeystroke(insert(0, 'x\n')));
  });

  it('an undo is never typing, even of one character', () => {
    assert.ok(isTyping([insert(0, 'a')], undefined));
    assert.ok(!isTyping([insert(0, 'a')], 'undo'));
    assert.ok(!isTyping([], undefined));
  });
});

describe('which edits an AI made', () => {
  it('a multi-line insertion while nobody typed is AI-written', async () => {
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], idle, noClipboard), [0]);
  });

  it('a single line counts from MIN_AI_INSERT_CHARS characters on', async () => {
    const long = 'x'.repeat(MIN_AI_INSERT_CHARS);
    assert.deepEqual(await aiChangeIndexes([insert(0, long)], idle, noClipboard), [0]);
    assert.deepEqual(await aiChangeIndexes([insert(0, long.slice(1))], idle, noClipboard), []);
  });

  it('undo and redo never count, whatever they insert', async () => {
    for (const reason of ['undo', 'redo'] as const) {
      assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], { ...idle, reason }, noClipboard), []);
    }
  });

  it('a paste of the clipboard is the person, even re-indented and with CRLF', async () => {
    const clipboard = () => Promise.resolve('DROP TABLE users;\r\nDROP TABLE orders;\r\n');
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], idle, clipboard), []);
    const reindented = '    DROP TABLE users;\n    DROP TABLE orders;\n';
    assert.deepEqual(await aiChangeIndexes([insert(0, reindented)], idle, clipboard), []);
  });

  it('text that differs from the clipboard is still AI-written', async () => {
    const clipboard = () => Promise.resolve('DROP TABLE users;');
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], idle, clipboard), [0]);
  });

  it('a multi-cursor paste spreads the clipboard lines over the cursors', async () => {
    const clipboard = () => Promise.resolve('first line of the clipboard\nsecond line of the clipboard');
    const changes = [insert(40, 'second line of the clipboard'), insert(0, 'first line of the clipboard')];
    assert.deepEqual(await aiChangeIndexes(changes, idle, clipboard), []);
  });

  it('reads the clipboard only when an edit could be attributed', async () => {
    let reads = 0;
    const counting = () => {
      reads++;
      return Promise.resolve('');
    };
    await aiChangeIndexes([insert(0, 'ab')], idle, counting);
    await aiChangeIndexes([insert(0, DROP)], { ...idle, reason: 'undo' }, counting);
    await aiChangeIndexes([insert(0, DROP)], { ...idle, visible: false }, counting);
    assert.equal(reads, 0);
    await aiChangeIndexes([insert(0, DROP)], idle, counting);
    assert.equal(reads, 1);
  });

  it('a clipboard that cannot be read does not stop the attribution', async () => {
    const refusing = () => Promise.reject(new Error('denied'));
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], idle, refusing), [0]);
  });

  it('an insertion right after a key press is the person (a snippet, a completion)', async () => {
    const typing = { ...idle, msSinceKeystroke: TYPING_WINDOW_MS - 1 };
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], typing, noClipboard), []);
    const paused = { ...idle, msSinceKeystroke: TYPING_WINDOW_MS };
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], paused, noClipboard), [0]);
  });

  it('new code in a document no editor shows is an agent edit, even right after typing', async () => {
    const hidden = { ...idle, visible: false, msSinceKeystroke: 0 };
    const changes = [insert(50, 'rm -rf "$DIR/"\n'), insert(10, '   '), insert(0, 'x')];
    assert.deepEqual(await aiChangeIndexes(changes, hidden, noClipboard), [0]);
  });

  it('a rename across files edits documents no editor shows, and is not AI', async () => {
    const hidden = { ...idle, visible: false };
    const rename = [{ rangeOffset: 4, rangeLength: 5, text: 'users' }, { rangeOffset: 40, rangeLength: 5, text: 'users' }];
    assert.deepEqual(await aiChangeIndexes(rename, hidden, noClipboard), []);
  });

  it('a change that leaves the document as on disk is a reload, not an edit here', async () => {
    const reload = { ...idle, visible: false, clean: true };
    assert.deepEqual(await aiChangeIndexes([insert(0, DROP)], reload, noClipboard), []);
  });

  it('only the generated changes of a mixed event are attributed', async () => {
    const changes = [insert(100, DROP), insert(50, 'a'), insert(0, '\n    ')];
    assert.deepEqual(await aiChangeIndexes(changes, idle, noClipboard), [0]);
  });
});

describe('where the inserted text lies after the event', () => {
  const before = 'line one\nline two\nline three\n';

  function check(changes: TextChange[]): void {
    const after = applyChanges(before, changes);
    const ranges = insertedRanges(changes);
    changes.forEach((change, index) => {
      const range = ranges[index];
      assert.ok(range !== null && range !== undefined, `change ${index} has a range`);
      assert.equal(after.slice(range.start, range.end), change.text, `change ${index}`);
    });
  }

  it('one insertion is where it was inserted', () => {
    assert.deepEqual(insertedRanges([insert(9, DROP)]), [{ start: 9, end: 9 + DROP.length }]);
  });

  it('changes listed last-first (as VS Code sends them) keep their offsets', () => {
    const changes = [insert(18, 'BBB\n'), insert(9, 'AAAA\n')];
    assert.deepEqual(insertedRanges(changes), [
      { start: 23, end: 27 },
      { start: 9, end: 14 },
    ]);
    check(changes);
  });

  it('changes listed first-last are shifted by the later insertions before them', () => {
    // The second change's offset already counts the first insertion (applied in order).
    const changes = [insert(0, 'XX\n'), insert(12, 'YYYY'), insert(3, 'Z\n')];
    check(changes);
    assert.deepEqual(insertedRanges(changes), [
      { start: 0, end: 3 },
      { start: 14, end: 18 },
      { start: 3, end: 5 },
    ]);
  });

  it('a later insertion at the very start of an earlier one pushes it right', () => {
    const changes = [insert(5, 'AAAA'), insert(5, 'BB')];
    check(changes);
    assert.deepEqual(insertedRanges(changes), [
      { start: 7, end: 11 },
      { start: 5, end: 7 },
    ]);
  });

  it('a later deletion before an insertion pulls it left', () => {
    const changes = [insert(18, 'NEW\n'), { rangeOffset: 0, rangeLength: 9, text: '' }];
    check(changes.slice(0, 1));
    assert.deepEqual(insertedRanges(changes), [{ start: 9, end: 13 }, null]);
    assert.equal(applyChanges(before, changes).slice(9, 13), 'NEW\n');
  });

  it('a later change inside an insertion widens it to what the insertion became', () => {
    const changes = [insert(0, 'DROP TABLE users;\n'), { rangeOffset: 5, rangeLength: 5, text: 'VIEW' }];
    const after = applyChanges(before, changes);
    const [range] = insertedRanges(changes);
    assert.ok(range);
    assert.equal(after.slice(range.start, range.end), 'DROP VIEW users;\n');
  });

  it('a later change over the end of an insertion covers its replacement', () => {
    const changes = [insert(0, 'abcdef'), { rangeOffset: 4, rangeLength: 10, text: 'XY' }];
    const after = applyChanges(before, changes);
    const [range] = insertedRanges(changes);
    assert.ok(range);
    assert.equal(after.slice(range.start, range.end), 'abcdXY');
  });

  it('an insertion a later change deletes entirely has no range', () => {
    const changes = [insert(9, 'gone'), { rangeOffset: 8, rangeLength: 6, text: '' }];
    assert.deepEqual(insertedRanges(changes), [null, null]);
  });

  it('a replacement reports the new text, not the replaced one', () => {
    const changes = [{ rangeOffset: 9, rangeLength: 8, text: 'DROP TABLE t;' }];
    check(changes);
  });
});

describe('paste detection', () => {
  it('ignores blank clipboards and blank insertions', () => {
    assert.ok(!isPaste('DROP TABLE x;', ''));
    assert.ok(!isPaste('   ', '   '));
  });

  it('does not take a line of the inserted block for the whole clipboard', () => {
    assert.ok(!isPaste('a\nb', 'a'));
  });
});

describe('editing commands are not AI', () => {
  const line = 'DROP TABLE users; -- legacy cleanup';

  it('a change rewriting about as much text as it replaces is a command, not new code', async () => {
    const upper = { rangeOffset: 0, rangeLength: line.length, text: line.toUpperCase() };
    assert.ok(isRewrite(upper));
    assert.deepEqual(await aiChangeIndexes([upper], idle, noClipboard), []);
    const formatted = { rangeOffset: 0, rangeLength: 40, text: 'function f() {\n  return 1;\n}\n' + 'x'.repeat(6) };
    assert.ok(isRewrite(formatted));
    assert.deepEqual(await aiChangeIndexes([formatted], idle, noClipboard), []);
  });

  it('a completion that replaces the typed prefix, or a much longer rewrite, is still AI', async () => {
    const completion = { rangeOffset: 0, rangeLength: 3, text: 'DROP TABLE users CASCADE;' };
    assert.ok(!isRewrite(completion));
    assert.deepEqual(await aiChangeIndexes([completion], idle, noClipboard), [0]);
    const longer = { rangeOffset: 0, rangeLength: 20, text: DROP + DROP };
    assert.deepEqual(await aiChangeIndexes([longer], idle, noClipboard), [0]);
  });

  it('a line copied from elsewhere in the document keeps its own authorship', async () => {
    const before = line + '\n';
    const copy = insert(before.length, line + '\n');
    const textAfter = applyChanges(before, [copy]);
    assert.ok(isCopy(copy.text, textAfter, { start: before.length, end: textAfter.length }));
    assert.deepEqual(await aiChangeIndexes([copy], { ...idle, textAfter }, noClipboard), []);
    const fresh = insert(before.length, 'TRUNCATE TABLE audit_log;\n');
    const freshAfter = applyChanges(before, [fresh]);
    assert.deepEqual(await aiChangeIndexes([fresh], { ...idle, textAfter: freshAfter }, noClipboard), [0]);
  });
});
