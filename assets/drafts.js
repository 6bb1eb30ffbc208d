// Unsent drafts, one per person and conversation, kept in the browser (localStorage) so
// that moving to another conversation or reloading the page loses nothing being typed.
// Signing out forgets them: the next person at this browser does not read them.

const key = (me, conversation) => `hearth:draft:${me}:${conversation}`;

/** The draft kept for this conversation ("" when none, or when storage is unavailable). */
export function loadDraft(me, conversation) {
  try {
    return localStorage.getItem(key(me, conversation)) ?? "";
  } catch {
    return "";
  }
}

/** Keeps `text` as the draft; an empty (or blank) text forgets it. */
export function saveDraft(me, conversation, text) {
  try {
    if (text.trim()) localStorage.setItem(key(me, conversation), text);
    else localStorage.removeItem(key(me, conversation));
  } catch {
    /* storage full or refused: the draft lives only in the field */
  }
}

export function clearDraft(me, conversation) {
  saveDraft(me, conversation, "");
}

/** Forgets every draft of `me` (signing out). */
export function clearAllDrafts(me) {
  try {
    const mine = `hearth:draft:${me}:`;
    for (const k of Object.keys(localStorage)) if (k.startsWith(mine)) localStorage.removeItem(k);
  } catch {
    /* nothing kept */
  }
}
