/**
 * Split a byte stream into text lines as they arrive, so input piped in
 * live (`tail -f … | publish`) is handled line by line.
 *
 * @module
 */

/**
 * Yield the lines of `stream`, decoded as UTF-8, without their `\n` or
 * `\r\n`. A last line without a newline is yielded too.
 */
export async function* readLines(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<string> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const part of parts) yield stripCr(part);
  }
  if (rest !== "") yield stripCr(rest);
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
