/**
 * The Docker engine's socket when none is given, for every command and the client (one definition). Its own
 * file: the CLI names it in flag help at startup without loading the Docker client.
 */
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
