// A broken openai-java build for the suite's own tests: copies a driver.jar, rewriting one
// method of one SDK class with ASM (the library maven-shade already brings into ~/.m2).
//
//   java -cp asm.jar:. JarPatcher IN.jar OUT.jar PATCH...
//
// PATCH is one of
//   empty-optional:com/openai/Class#method   the method returns Optional.empty()
//   swap-static:com/openai/Class#method:com/openai/Owner.FROM=TO
//                                            every GETSTATIC Owner.FROM in it reads Owner.TO
//   swap-constant:com/openai/Class#method:FROM=TO
//                                            every constant FROM it loads (a number or a
//                                            string, as written by toString) loads TO instead,
//                                            of the same type
//   return-constant:com/openai/Class#method:VALUE
//                                            the method returns VALUE (a String, long, int or
//                                            double, as the method's return type says)
//   return-static:com/openai/Class#method:com/openai/Owner.name:DESCRIPTOR
//                                            the method returns what static Owner.name returns
//   memoize-field:com/openai/Class#method:FIELD
//                                            the method's result is kept: FIELD (a Supplier
//                                            the method asks) becomes a supplier of that
//                                            result, so it is asked once per instance
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
        if (patch.kind().equals("return-static")) {
          String[] target = patch.argument().split(":", 2);
          String owner = target[0].substring(0, target[0].lastIndexOf('.'));
          String method = target[0].substring(target[0].lastIndexOf('.') + 1);
          visitor.visitCode();
          visitor.visitMethodInsn(Opcodes.INVOKESTATIC, owner, method, target[1], false);
          visitor.visitInsn(Opcodes.ARETURN);
          visitor.visitMaxs(0, 0);
          visitor.visitEnd();
          return null;
        }
        if (patch.kind().equals("return-constant")) {
          char type = descriptor.charAt(descriptor.indexOf(')') + 1);
          visitor.visitCode();
          switch (type) {
            case 'J' -> {
              visitor.visitLdcInsn(Long.valueOf(patch.argument()));
              visitor.visitInsn(Opcodes.LRETURN);
            }
            case 'I' -> {
              visitor.visitLdcInsn(Integer.valueOf(patch.argument()));
              visitor.visitInsn(Opcodes.IRETURN);
            }
            case 'D' -> {
              visitor.visitLdcInsn(Double.valueOf(patch.argument()));
              visitor.visitInsn(Opcodes.DRETURN);
            }
            default -> {
              visitor.visitLdcInsn(patch.argument());
              visitor.visitInsn(Opcodes.ARETURN);
            }
          }
          visitor.visitMaxs(0, 0);
          visitor.visitEnd();
          return null;
        }
        if (patch.kind().equals("memoize-field")) {
          return memoize(visitor, patch.owner(), patch.argument());
        }
        if (patch.kind().equals("swap-constant")) {
          String[] constant = patch.argument().split("=", 2);
          return new MethodVisitor(Opcodes.ASM9, visitor) {
            @Override
            public void visitLdcInsn(Object value) {
              super.visitLdcInsn(String.valueOf(value).equals(constant[0])
                  ? sameType(value, constant[1]) : value);
            }
          };
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
      @Override
      public org.objectweb.asm.FieldVisitor visitField(int access, String name, String descriptor,
          String signature, Object value) {
        boolean memoized = patch.kind().equals("memoize-field") && name.equals(patch.argument());
        return super.visitField(memoized ? access & ~Opcodes.ACC_FINAL : access, name, descriptor,
            signature, value);
      }
    }, 0);
    if (!found[0]) {
      throw new IllegalStateException(patch.owner() + " has no method " + patch.method());
    }
    return writer.toByteArray();
  }

  static Object sameType(Object value, String text) {
    if (value instanceof Double) {
      return Double.valueOf(text);
    }
    if (value instanceof Float) {
      return Float.valueOf(text);
    }
    if (value instanceof Long) {
      return Long.valueOf(text);
    }
    if (value instanceof Integer) {
      return Integer.valueOf(text);
    }
    return text;
  }

  /**
   * The method's body becomes: ask FIELD (a java.util.function.Supplier) once, then replace
   * FIELD by a supplier of that answer (() -> answer, made by LambdaMetafactory), and return
   * it; FIELD loses its final flag.
   */
  static MethodVisitor memoize(MethodVisitor visitor, String owner, String field) {
    String supplier = "Ljava/util/function/Supplier;";
    visitor.visitCode();
    visitor.visitVarInsn(Opcodes.ALOAD, 0);
    visitor.visitFieldInsn(Opcodes.GETFIELD, owner, field, supplier);
    visitor.visitMethodInsn(Opcodes.INVOKEINTERFACE, "java/util/function/Supplier", "get",
        "()Ljava/lang/Object;", true);
    visitor.visitVarInsn(Opcodes.ASTORE, 1);
    visitor.visitVarInsn(Opcodes.ALOAD, 0);
    visitor.visitVarInsn(Opcodes.ALOAD, 1);
    org.objectweb.asm.Handle factory = new org.objectweb.asm.Handle(Opcodes.H_INVOKESTATIC,
        "java/lang/invoke/LambdaMetafactory", "metafactory",
        "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;Ljava/lang/invoke/MethodType;"
            + "Ljava/lang/invoke/MethodType;Ljava/lang/invoke/MethodHandle;"
            + "Ljava/lang/invoke/MethodType;)Ljava/lang/invoke/CallSite;", false);
    // () -> answer: the identity of Object, bound to the answer (Objects.requireNonNull).
    org.objectweb.asm.Handle identity = new org.objectweb.asm.Handle(Opcodes.H_INVOKESTATIC,
        "java/util/Objects", "requireNonNull", "(Ljava/lang/Object;)Ljava/lang/Object;", false);
    visitor.visitInvokeDynamicInsn("get", "(Ljava/lang/Object;)" + supplier, factory,
        org.objectweb.asm.Type.getType("()Ljava/lang/Object;"), identity,
        org.objectweb.asm.Type.getType("()Ljava/lang/Object;"));
    visitor.visitFieldInsn(Opcodes.PUTFIELD, owner, field, supplier);
    visitor.visitVarInsn(Opcodes.ALOAD, 1);
    visitor.visitTypeInsn(Opcodes.CHECKCAST, "java/lang/String");
    visitor.visitInsn(Opcodes.ARETURN);
    visitor.visitMaxs(0, 0);
    visitor.visitEnd();
    return null;
  }
}
