/** A stream a command writes its output to in a test: everything written, in `text`. */
export interface OutputSink {
  text: string;
  write(chunk: string): boolean;
}

/** A fresh, empty sink. */
export function outputSink(): OutputSink {
  return {
    text: '',
    write(chunk: string) {
      this.text += chunk;
      return true;
    },
  };
}
