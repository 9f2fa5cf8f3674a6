/**
 * What `build` makes on the first call, kept for every later one: a function instance's config
 * and clients, made when its first event arrives (not at import, so loading a function's module
 * needs no environment) and reused for the life of the instance.
 */
export function onFirstCall<T>(build: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: build() };
    return made.value;
  };
}
