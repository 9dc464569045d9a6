/** Text as the job summary's Markdown (GitHub's, which passes HTML through) shows it literally. */

/** `&`, `<` and `>` escaped: text inside HTML (a `<summary>`) or Markdown shown as written. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text safe inside a Markdown table cell: HTML escaped, `|` escaped, line breaks as spaces. */
export function tableCell(text: string): string {
  return escapeHtml(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
