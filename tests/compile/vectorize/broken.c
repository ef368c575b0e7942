int main(void) {
  int s = 0;
  for (int i = 0; i < 10; ++i) s += undeclared_thing[i];
  return s;
}
