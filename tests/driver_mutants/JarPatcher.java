// A broken openai-java build for the suite's own tests: copies a driver.jar, rewriting one
// method of one SDK class with ASM (the library maven-shade already brings into ~/.m2).
//
//   java -cp asm.jar:. JarPatcher IN.jar OUT.jar PATCH...
//
// PATCH is one of
//   empty-optional:com/openai/Class#method   the method returns Optional.empty()
//   swap-static:com/openai/Class#method:com/openai/Owner.FROM=TO
//                                            every GETSTATIC Owner.FROM in it reads Owner.TO
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

public final class JarPatcher {
  record Patch(String kind, String owner, String method, String argument) {
    static Patch parse(String text) {
      String[] kindRest = text.split(":", 2);
      String[] target = kindRest[1].split(":", 2);
      String[] ownerMethod = target[0].split("#", 2);
      return new Patch(kindRest[0], ownerMethod[0], ownerMethod[1],
          target.length > 1 ? target[1] : null);
    }
  }

  public static void main(String[] args) throws Exception {
    List<Patch> patches = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      patches.add(Patch.parse(args[i]));
    }
    int applied = 0;
    try (JarFile in = new JarFile(args[0]);
         OutputStream file = Files.newOutputStream(Paths.get(args[1]));
         JarOutputStream out = new JarOutputStream(file)) {
      Enumeration<JarEntry> entries = in.entries();
      while (entries.hasMoreElements()) {
        JarEntry entry = entries.nextElement();
        byte[] bytes;
        try (InputStream stream = in.getInputStream(entry)) {
          bytes = stream.readAllBytes();
        }
        for (Patch patch : patches) {
          if (entry.getName().equals(patch.owner() + ".class")) {
            bytes = apply(bytes, patch);
            applied++;
          }
        }
        out.putNextEntry(new JarEntry(entry.getName()));
        out.write(bytes);
        out.closeEntry();
      }
    }
    if (applied != patches.size()) {
      throw new IllegalStateException("applied " + applied + " of " + patches.size() + " patches");
    }
  }

  static byte[] apply(byte[] bytes, Patch patch) {
    ClassReader reader = new ClassReader(bytes);
    ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
    boolean[] found = {false};
    reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
      @Override
      public MethodVisitor visitMethod(int access, String name, String descriptor,
          String signature, String[] exceptions) {
        MethodVisitor visitor = super.visitMethod(access, name, descriptor, signature, exceptions);
        if (!name.equals(patch.method())) {
          return visitor;
        }
        found[0] = true;
        if (patch.kind().equals("empty-optional")) {
          visitor.visitCode();
          visitor.visitMethodInsn(Opcodes.INVOKESTATIC, "java/util/Optional", "empty",
              "()Ljava/util/Optional;", false);
          visitor.visitInsn(Opcodes.ARETURN);
          visitor.visitMaxs(0, 0);
          visitor.visitEnd();
          return null; // the original body is dropped
        }
        String[] fromTo = patch.argument().split("=", 2);
        String owner = fromTo[0].substring(0, fromTo[0].lastIndexOf('.'));
        String from = fromTo[0].substring(fromTo[0].lastIndexOf('.') + 1);
        return new MethodVisitor(Opcodes.ASM9, visitor) {
          @Override
          public void visitFieldInsn(int opcode, String fieldOwner, String field, String desc) {
            boolean swap = opcode == Opcodes.GETSTATIC && fieldOwner.equals(owner)
                && field.equals(from);
            super.visitFieldInsn(opcode, fieldOwner, swap ? fromTo[1] : field, desc);
          }
        };
      }
    }, 0);
    if (!found[0]) {
      throw new IllegalStateException(patch.owner() + " has no method " + patch.method());
    }
    return writer.toByteArray();
  }
}
