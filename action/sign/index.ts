export { signSeal } from './sign-seal.ts';
