// `mime` 3 (the package @google-cloud/storage itself uses to guess content types) ships no types.
declare module 'mime' {
  const mime: { getType(pathOrExtension: string): string | null; getExtension(type: string): string | null };
  export default mime;
}
