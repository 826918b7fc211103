"""Language-model providers behind one interface: offline rules by default, or a real model."""
